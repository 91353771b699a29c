// Golden test of every status the controller writes for one snapshot
// (testdata/controllers/status.in.yaml -> status.golden.yaml; REFRESH_GOLDEN=1 rewrites it), and
// the property that keeps the controller from writing in a loop: once the written statuses are
// on the objects, nothing differs any more.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { assertGolden } from '../test-support/golden.js';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { deriveMeshState } from '../collections/mesh-state.js';
import { formatProblem, parseSnapshot } from '../ingest/manifests.js';
import type { ClusterSnapshot } from '../model/kube.js';
import type { ServedSnapshot } from '../server/served-snapshot.js';
import { EMPTY_WDS } from '../server/wds-resources.js';
import { withRoutes } from '../translate/envoy/index.js';
import { translateState } from '../translate/index.js';
import { desiredStatuses, type StatusWrite } from './desired-status.js';

const DIR = fileURLToPath(new URL('../../testdata/controllers/', import.meta.url));
const NOW = new Date('2026-11-01T00:00:00.000Z');

function served(cluster: ClusterSnapshot): ServedSnapshot {
  const state = deriveMeshState(cluster);
  return {
    generation: 1,
    builtAt: NOW,
    cluster,
    state,
    envoy: withRoutes(state, cluster),
    wds: EMPTY_WDS,
    notes: translateState(state).notes,
    rejected: [],
  };
}

function load(): ClusterSnapshot {
  const { snapshot, problems } = parseSnapshot(
    readFileSync(`${DIR}status.in.yaml`, 'utf8'),
    'status.in.yaml',
  );
  assert.deepEqual(problems.map(formatProblem), []);
  return snapshot;
}

test('golden: the statuses written for Gateways, routes, AuthorizationPolicies and RequestAuthentications', () => {
  const writes = desiredStatuses(served(load()), NOW);
  const actual = stringify(
    writes.map((w) => ({
      object: `${w.resource.kind} ${w.namespace}/${w.name}`,
      status: w.status,
    })),
    { lineWidth: 0 },
  );
  assertGolden(`${DIR}status.golden.yaml`, actual);
});

test('statuses already on the objects are not written again', () => {
  const cluster = load();
  const first = desiredStatuses(served(cluster), NOW);
  assert.ok(
    first.some((w) => w.fingerprint !== w.currentFingerprint),
    'the input has statuses to write',
  );
  const withStatus = applyStatuses(cluster, first);
  const later = new Date(NOW.getTime() + 60_000);
  const second = desiredStatuses(served(withStatus), later);
  assert.deepEqual(
    second
      .filter((w) => w.fingerprint !== w.currentFingerprint)
      .map((w) => `${w.resource.kind} ${w.namespace}/${w.name}`),
    [],
  );
  // Transition times do not move while nothing changes.
  assert.ok(
    JSON.stringify(sortKeys(second.map((w) => w.status))) ===
      JSON.stringify(sortKeys(first.map((w) => w.status))),
    'the second statuses equal the first, transition times included',
  );
});

/** The cluster as the apiserver would return it after the writes (keys sorted, as Go does). */
function applyStatuses(cluster: ClusterSnapshot, writes: readonly StatusWrite[]): ClusterSnapshot {
  const patch =
    (kind: string) =>
    <T extends { metadata: { namespace: string; name: string }; status: object }>(o: T): T => {
      const w = writes.find(
        (x) =>
          x.resource.kind === kind &&
          x.namespace === o.metadata.namespace &&
          x.name === o.metadata.name,
      );
      return w ? { ...o, status: sortKeys({ ...o.status, ...w.status }) } : o;
    };
  return {
    ...cluster,
    gateways: cluster.gateways.map(patch('Gateway')),
    httpRoutes: cluster.httpRoutes.map(patch('HTTPRoute')),
    grpcRoutes: cluster.grpcRoutes.map(patch('GRPCRoute')),
    authorizationPolicies: cluster.authorizationPolicies.map(patch('AuthorizationPolicy')),
    requestAuthentications: cluster.requestAuthentications.map(patch('RequestAuthentication')),
  };
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  return v;
}
