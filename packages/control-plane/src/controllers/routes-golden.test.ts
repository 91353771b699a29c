// One decision, two outputs: testdata/routes/<case>.in.yaml -> <case>.golden.yaml holding the
// route and Gateway status the controller writes AND the route configurations served to the
// waypoints and proxyless gRPC clients the first line names (`# sets: waypoint <ns>/<name>;
// proxyless; proxyless <client namespace>`), from the same snapshot. REFRESH_GOLDEN=1 rewrites.
// Besides the golden comparison, every accepted parent must be served and nothing else may be.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { Route } from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import { assertGolden, goldenCaseNames } from '../test-support/golden.js';
import { servedCase } from '../test-support/served-case.js';
import {
  proxylessResources,
  routeAttachments,
  waypointResources,
  type EnvoyResources,
} from '../translate/envoy/index.js';
import { desiredStatuses } from './desired-status.js';

const DIR = fileURLToPath(new URL('../../testdata/routes/', import.meta.url));
const NOW = new Date('2026-11-01T00:00:00.000Z');
const cases = goldenCaseNames(DIR);

function load(name: string) {
  const { header: sets, served } = servedCase(DIR, name, 'sets', NOW);
  return { sets, served };
}

/** A route as one readable line: name, match, and where it sends requests. */
function describeRoute(r: Route): string {
  const m = r.match!;
  const path =
    m.pathSpecifier.case === 'safeRegex'
      ? `regex ${m.pathSpecifier.value.regex}`
      : `${m.pathSpecifier.case} ${String(m.pathSpecifier.value)}`;
  const headers = m.headers.map((h) => ` ${h.name}`).join('');
  // A waypoint's consumer routes match the caller's namespace (istio_authn source.namespace).
  const callers = m.dynamicMetadata
    .map((d) => {
      const v = d.value?.matchPattern;
      const ns = v?.case === 'stringMatch' ? v.value.matchPattern.value : undefined;
      return ` from namespace ${String(ns)}`;
    })
    .join('');
  const a = r.action;
  let to: string;
  if (a.case === 'route') {
    const c = a.value.clusterSpecifier;
    to =
      c.case === 'cluster'
        ? c.value
        : c.case === 'weightedClusters'
          ? c.value.clusters.map((w) => `${w.name}=${w.weight}`).join(' ')
          : String(c.case);
  } else if (a.case === 'directResponse') to = `status ${a.value.status}`;
  else to = String(a.case);
  return `${r.name}: ${path}${headers}${callers} -> ${to}`;
}

function servedRoutes(r: EnvoyResources) {
  return {
    listeners: [...r.listeners.values()].map((l) =>
      l.filterChains.length ? { [l.name]: l.filterChains.map((c) => c.name) } : l.name,
    ),
    routes: Object.fromEntries(
      [...r.routes].map(([name, rc]) => [name, rc.virtualHosts[0]!.routes.map(describeRoute)]),
    ),
  };
}

test('there are route golden cases', () => {
  assert.ok(cases.length >= 2, `found only ${cases.length} cases in ${DIR}`);
});

for (const name of cases) {
  test(`routes golden: ${name}`, () => {
    const { sets, served } = load(name);
    const writes = desiredStatuses(served, NOW).filter(
      (w) => w.resource.kind !== 'AuthorizationPolicy',
    );
    const status = writes.map((w) => ({
      object: `${w.resource.kind} ${w.namespace}/${w.name}`,
      status: JSON.parse(
        JSON.stringify(w.status, (k, v: unknown) => (k === 'lastTransitionTime' ? undefined : v)),
      ) as unknown,
    }));
    const resources: Record<string, ReturnType<typeof servedRoutes>> = {};
    const state = served.envoy;
    for (const set of sets) {
      const [kind, arg] = set.split(' ');
      if (kind === 'waypoint') {
        const waypoint = state.waypoints.get(arg!);
        assert.ok(waypoint, `${arg} is not a waypoint`);
        resources[set] = servedRoutes(waypointResources(state, waypoint));
      } else {
        assert.equal(kind, 'proxyless', `unknown set ${set}`);
        resources[set] = servedRoutes(proxylessResources(state, arg));
      }
    }
    assertGolden(
      join(DIR, `${name}.golden.yaml`),
      stringify({ status, served: resources }, { lineWidth: 0 }),
    );

    // Served iff accepted: every route named in a served route configuration has an accepted
    // parent, and a route whose parents are all refused appears nowhere.
    const servedNames = new Set<string>();
    for (const set of Object.values(resources))
      for (const routes of Object.values(set.routes))
        for (const line of routes) {
          const routeName = line.slice(0, line.indexOf(':'));
          // Not a route object's rule: the route to the service without routes, and the 404 that
          // closes one namespace's consumer routes at a waypoint.
          const synthetic =
            routeName === 'default' || /^consumer-routes-of-.*-matched-none$/.test(routeName);
          if (!synthetic) servedNames.add(routeName.split('.').slice(0, 2).join('.'));
        }
    for (const r of routeAttachments(state).routes) {
      const accepted = r.parents.some((p) => p.conditions[0]!.status);
      const id = `${r.route.namespace}.${r.route.name}`;
      if (!accepted) assert.ok(!servedNames.has(id), `${id} is served but not accepted`);
    }
    for (const id of servedNames) {
      const [ns, n] = id.split('.');
      const r = routeAttachments(state).routes.find(
        (x) => x.route.namespace === ns && x.route.name === n,
      );
      assert.ok(
        r?.parents.some((p) => p.conditions[0]!.status),
        `${id} is served but not accepted`,
      );
    }
  });
}
