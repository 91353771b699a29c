import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { AddressSchema, WorkloadSchema } from '@trellis/api/gen/istio/workload/workload_pb.js';
import { resourcesToYaml } from './resources-yaml.js';

test('resources are keyed by name in order, with readable IPs next to the base64', () => {
  const workload = (uid: string, ips: number[][]) =>
    create(AddressSchema, {
      type: {
        case: 'workload',
        value: create(WorkloadSchema, { uid, addresses: ips.map((b) => Uint8Array.from(b)) }),
      },
    });
  const yaml = resourcesToYaml(
    AddressSchema,
    new Map([
      ['b', workload('b', [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]])],
      ['a', workload('a', [[10, 0, 0, 1]])],
    ]),
  );
  assert.equal(
    yaml,
    [
      'a:',
      '  workload:',
      '    addresses:',
      '      - CgAAAQ== # 10.0.0.1',
      '    uid: a',
      'b:',
      '  workload:',
      '    addresses:',
      '      - IAENuAAAAAAAAQAAAAAAAQ== # 2001:db8::1:0:0:1',
      '    uid: b',
      '',
    ].join('\n'),
  );
  assert.equal(resourcesToYaml(AddressSchema, new Map()), '{}\n');
});
