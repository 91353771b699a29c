// Golden tests: testdata/<case>.in.yaml -> <case>.addresses.golden.yaml, <case>.authorizations.golden.yaml
// and, when the translation has something to say, <case>.notes.golden.yaml.
// REFRESH_GOLDEN=1 rewrites the golden files. A comment line `# mesh-options: {json}` sets MeshOptions.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertGolden, goldenCaseNames } from '../test-support/golden.js';
import { stringify } from 'yaml';
import { AuthorizationSchema } from '@trellis/api/gen/istio/security/authorization_pb.js';
import { AddressSchema } from '@trellis/api/gen/istio/workload/workload_pb.js';
import { formatProblem, parseManifests, snapshotFromObjects } from '../ingest/manifests.js';
import type { MeshOptions } from '../model/options.js';
import { resourcesToYaml } from './resources-yaml.js';
import { translateSnapshot } from './translate-state.js';

const TESTDATA = fileURLToPath(new URL('../../testdata/', import.meta.url));
const cases = goldenCaseNames(TESTDATA);

function checkGolden(file: string, actual: string | undefined): void {
  assertGolden(join(TESTDATA, file), actual);
}

test('there are golden cases', () => {
  assert.ok(cases.length >= 10, `found only ${cases.length} cases in ${TESTDATA}`);
});

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const text = readFileSync(join(TESTDATA, `${name}.in.yaml`), 'utf8');
    const header = /^# mesh-options: (.*)$/m.exec(text);
    const options: MeshOptions = header ? (JSON.parse(header[1]!) as MeshOptions) : {};
    const parsed = parseManifests(text, `${name}.in.yaml`);
    const built = snapshotFromObjects(parsed.objects);
    assert.deepEqual(
      [...parsed.problems, ...built.problems].map(formatProblem),
      [],
      'the input has invalid documents',
    );

    const out = translateSnapshot(built.snapshot, options);
    checkGolden(`${name}.addresses.golden.yaml`, resourcesToYaml(AddressSchema, out.addresses));
    checkGolden(
      `${name}.authorizations.golden.yaml`,
      resourcesToYaml(AuthorizationSchema, out.authorizations),
    );
    checkGolden(
      `${name}.notes.golden.yaml`,
      out.notes.length ? stringify(out.notes, { lineWidth: 0 }) : undefined,
    );

    // Every policy a workload lists must be served, or ztunnel would ignore it silently.
    for (const [, address] of out.addresses) {
      if (address.type.case !== 'workload') continue;
      for (const policy of address.type.value.authorizationPolicies) {
        assert.ok(
          out.authorizations.has(policy),
          `${address.type.value.uid} lists ${policy}, which is not served`,
        );
      }
    }
  });
}
