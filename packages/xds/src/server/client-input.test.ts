// What a client sends must not choose the server's metric series or the size of its log lines:
// made-up type URLs are counted as `type="unknown"`, and a NACK's error_detail (or a node id) is
// logged and kept for the debug view only as a bounded prefix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { CLUSTER_TYPE_URL } from '@trellis/api';
import { DeltaDiscoveryRequestSchema } from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import { harness, ZTUNNEL_NODE } from '../test-support/harness.js';
import { rawDelta } from '../test-support/raw-stream.js';
import { snapshot } from '../test-support/resources.js';
import { eventually } from '@trellis/core/test-support';
import { CLIENT_TEXT_MAX } from './client-text.js';

test('pilot_xds_pushes labels only the served types; made-up type URLs count as "unknown"', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1' } }) });
  const raw = rawDelta(h.grpc.address);
  t.after(() => raw.end());
  const types = [CLUSTER_TYPE_URL, ...Array.from({ length: 200 }, (_, i) => `x.io/madeup.T${i}`)];
  raw.send(
    create(DeltaDiscoveryRequestSchema, {
      node: { id: ZTUNNEL_NODE },
      typeUrl: types[0],
      resourceNamesSubscribe: ['*'],
    }),
  );
  for (const typeUrl of types.slice(1))
    raw.send(create(DeltaDiscoveryRequestSchema, { typeUrl, resourceNamesSubscribe: ['*'] }));
  for (let i = 0; i < types.length; i++) await raw.next();

  assert.equal(await h.metric('pilot_xds_pushes{type="cds"}'), 1);
  assert.equal(await h.metric('pilot_xds_pushes{type="unknown"}'), 200);
  const text = await h.scrape();
  const series = text.split('\n').filter((l) => l.startsWith('pilot_xds_pushes{'));
  assert.deepEqual(series.map((l) => l.slice(0, l.indexOf('}') + 1)).sort(), [
    'pilot_xds_pushes{type="cds"}',
    'pilot_xds_pushes{type="unknown"}',
  ]);
});

test('a NACK with a 1 MB error_detail and a 100 KB node id are logged and kept truncated', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1' } }) });
  const raw = rawDelta(h.grpc.address);
  t.after(() => raw.end());
  const node = `ztunnel~10.0.0.5~${'p'.repeat(100_000)}.ns~ns.svc.cluster.local`;
  raw.send(
    create(DeltaDiscoveryRequestSchema, {
      node: { id: node },
      typeUrl: CLUSTER_TYPE_URL,
      resourceNamesSubscribe: ['*'],
    }),
  );
  const first = await raw.next();
  const detail = `cluster a is bad: ${'x'.repeat(1 << 20)}`;
  raw.send(
    create(DeltaDiscoveryRequestSchema, {
      typeUrl: CLUSTER_TYPE_URL,
      responseNonce: first.nonce,
      errorDetail: { code: 3, message: detail },
    }),
  );
  const nacked = await eventually('the NACK in debug', () => {
    const d = h.xds.debug()[0]?.types.find((x) => x.typeUrl === CLUSTER_TYPE_URL);
    return d?.nacks === 1 && d;
  });
  const limit = CLIENT_TEXT_MAX + 64;
  assert.ok(nacked.lastError!.startsWith('cluster a is bad: xxx'));
  assert.ok(nacked.lastError!.length < limit, `debug keeps ${nacked.lastError!.length} characters`);
  const line = await eventually('the NACK log line', () =>
    h.lines.find((l) => String(l.msg).includes('NACK')),
  );
  const logged = JSON.stringify(line);
  assert.match(String(line.error), /^cluster a is bad: x+\.\.\. \(\d+ more characters\)$/);
  assert.ok(logged.length < 4096, `the NACK log line has ${logged.length} characters`);
  assert.ok(
    h.lines.every((l) => JSON.stringify(l).length < 4096),
    'no log line carries the whole node id or error',
  );
});
