// Golden tests: testdata/envoy/<case>.in.yaml -> <case>.{listeners,routes,clusters,endpoints}.golden.yaml,
// plus <case>.notes.golden.yaml when the translation has something to say. The first line
// `# proxy: proxyless` or `# proxy: waypoint <ns>/<name>` picks the resource set.
// REFRESH_GOLDEN=1 rewrites the golden files.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertGolden, goldenCaseNames } from '../../test-support/golden.js';
import { stringify } from 'yaml';
import { unpackAnyAs } from '@trellis/api';
import { HttpConnectionManagerSchema } from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { Cluster_DiscoveryType } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { deriveMeshState } from '../../collections/mesh-state.js';
import { formatProblem, parseManifests, snapshotFromObjects } from '../../ingest/manifests.js';
import { proxylessResources } from './proxyless.js';
import type { EnvoyResources } from './resources.js';
import { withRoutes } from './state.js';
import { waypointResources } from './waypoint.js';
import { envoyResourcesToYaml, type EnvoyKind } from './yaml.js';

const TESTDATA = fileURLToPath(new URL('../../../testdata/envoy/', import.meta.url));
const KINDS: EnvoyKind[] = ['listeners', 'routes', 'clusters', 'endpoints'];
const cases = goldenCaseNames(TESTDATA);
const ORIGINAL_DST = Cluster_DiscoveryType.ORIGINAL_DST;

/** Translates one case file. */
export function translateCase(name: string): EnvoyResources {
  const text = readFileSync(join(TESTDATA, `${name}.in.yaml`), 'utf8');
  const header = /^# proxy: (proxyless|waypoint (\S+))$/m.exec(text);
  assert.ok(header, `${name}.in.yaml needs a "# proxy: proxyless|waypoint <ns>/<name>" line`);
  const parsed = parseManifests(text, `${name}.in.yaml`);
  const built = snapshotFromObjects(parsed.objects);
  assert.deepEqual(
    [...parsed.problems, ...built.problems].map(formatProblem),
    [],
    'the input has invalid documents',
  );
  const state = withRoutes(deriveMeshState(built.snapshot), built.snapshot);
  if (!header[2]) return proxylessResources(state);
  const waypoint = state.waypoints.get(header[2]);
  assert.ok(waypoint, `${header[2]} is not a waypoint in ${name}.in.yaml`);
  return waypointResources(state, waypoint);
}

export const goldenCases = cases;

function checkGolden(file: string, actual: string | undefined): void {
  assertGolden(join(TESTDATA, file), actual);
}

test('there are Envoy golden cases', () => {
  assert.ok(cases.length >= 5, `found only ${cases.length} cases in ${TESTDATA}`);
});

for (const name of cases) {
  test(`envoy golden: ${name}`, () => {
    const out = translateCase(name);
    for (const kind of KINDS)
      checkGolden(`${name}.${kind}.golden.yaml`, envoyResourcesToYaml(out, kind));
    checkGolden(
      `${name}.notes.golden.yaml`,
      out.notes.length ? stringify(out.notes, { lineWidth: 0 }) : undefined,
    );

    // Every listener's route configuration is served, and every served cluster has its endpoints.
    for (const [listenerName, l] of out.listeners) {
      const hcms = l.apiListener?.apiListener
        ? [l.apiListener.apiListener]
        : l.filterChains.flatMap((c) => {
            const t = c.filters.at(-1)!.configType;
            return t.case === 'typedConfig' && t.value.typeUrl.endsWith('.HttpConnectionManager')
              ? [t.value]
              : [];
          });
      assert.ok(hcms.length > 0, `${listenerName} has no HTTP connection manager`);
      for (const any of hcms) {
        const hcm = unpackAnyAs(any, HttpConnectionManagerSchema);
        assert.equal(hcm.routeSpecifier.case, 'rds');
        const rds = hcm.routeSpecifier.value!.routeConfigName;
        assert.ok(out.routes.has(rds), `${listenerName} refers to ${rds}, which is not served`);
        assert.equal(
          hcm.httpFilters.at(-1)?.name,
          'envoy.filters.http.router',
          'the router filter comes last',
        );
      }
    }
    // ORIGINAL_DST clusters (workload-addressed traffic) have no endpoints to serve.
    const eds = [...out.clusters].filter(([, c]) => c.clusterDiscoveryType.value !== ORIGINAL_DST);
    assert.deepEqual(
      [...out.endpoints.keys()],
      eds.map(([n]) => n),
    );
  });
}
