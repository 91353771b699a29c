// Route translation behaviour a user notices: ordering, invalid rules answering 500, and what
// proxyless gRPC clients cannot do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toHTTPRoute } from '../../ingest/convert/gateway-api.js';
import type { ServiceInfo } from '../../model/service-info.js';
import { NoteSink } from './notes.js';
import type { AttachedRoute } from './route-attachment.js';
import { servicePortRoutes } from './route-config.js';
import type { RouteContext } from './route-context.js';
import type { RouteTarget } from './route-match.js';

const svc: ServiceInfo = {
  name: 'web',
  namespace: 'ns',
  hostname: 'web.ns.svc.cluster.local',
  key: 'ns/web.ns.svc.cluster.local',
  vips: [{ network: '', ip: '10.96.0.1' }],
  ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', appProtocol: 'HTTP11' }],
  ipFamilies: 'IPV4_ONLY',
  ingressUseWaypoint: false,
  labels: {},
};

function translate(rules: Record<string, unknown>[], target: RouteTarget = 'envoy') {
  const notes = new NoteSink();
  const ctx: RouteContext = {
    target,
    services: new Map([[svc.key, svc]]),
    domainSuffix: 'cluster.local',
    notes,
    clusters: new Map(),
  };
  const object = toHTTPRoute({
    metadata: { name: 'r', namespace: 'ns' },
    spec: { parentRefs: [{ name: 'web', kind: 'Service', group: '' }], rules },
  });
  const attached: AttachedRoute = {
    kind: 'HTTPRoute',
    namespace: 'ns',
    name: 'r',
    object,
    parent: object.spec.parentRefs[0]!,
    createdMs: 0,
  };
  const routes = servicePortRoutes(svc, svc.ports[0]!, [attached], ctx);
  return { routes, notes: notes.notes.map((n) => n.message), clusters: [...ctx.clusters.keys()] };
}

const backend = [{ name: 'web', port: 80 }];

test('more specific matches come first: exact, then regex, then longer prefixes, then more headers', () => {
  const { routes } = translate([
    { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: backend },
    { matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: backend },
    {
      matches: [
        { path: { type: 'PathPrefix', value: '/a' }, headers: [{ name: 'x', value: '1' }] },
      ],
      backendRefs: backend,
    },
    { matches: [{ path: { type: 'RegularExpression', value: '/r.*' } }], backendRefs: backend },
    { matches: [{ path: { type: 'Exact', value: '/a/b' } }], backendRefs: backend },
    { matches: [{ path: { type: 'PathPrefix', value: '/a/b/' } }], backendRefs: backend },
  ]);
  assert.deepEqual(
    routes.map((r) => r.name),
    ['ns.r.4.0', 'ns.r.3.0', 'ns.r.5.0', 'ns.r.2.0', 'ns.r.1.0', 'ns.r.0.0'],
  );
});

test('a rule with an unsupported filter or no usable backend answers 500 on the waypoint', () => {
  const { routes, notes } = translate([
    {
      matches: [{ path: { value: '/ext' } }],
      filters: [{ type: 'ExtensionRef', extensionRef: { group: 'x.io', kind: 'F', name: 'f' } }],
      backendRefs: backend,
    },
    {
      matches: [{ path: { value: '/zero' } }],
      backendRefs: [{ name: 'web', port: 80, weight: 0 }],
    },
    {
      matches: [{ path: { value: '/kind' } }],
      backendRefs: [{ kind: 'ServiceImport', name: 'web', port: 80 }],
    },
  ]);
  for (const r of routes) {
    assert.equal(r.action.case, 'directResponse', r.name);
    assert.equal(r.action.value.status, 500);
  }
  assert.equal(notes.length, 4);
  assert.ok(notes.some((n) => /ServiceImport is not supported/.test(n)));
});

test('invalid matches are left out with a note, the rest of the rule stays', () => {
  const { routes, notes } = translate([
    {
      matches: [
        { path: { type: 'Exact', value: 'no-slash' } },
        { path: { type: 'Exact', value: '/ok' } },
      ],
      backendRefs: backend,
    },
  ]);
  assert.deepEqual(
    routes.map((r) => r.name),
    ['ns.r.0.1'],
  );
  assert.match(notes[0]!, /must start with "\/"/);
});

test('proxyless gRPC gets plain prefixes and never redirects or fixed responses', () => {
  const { routes, notes } = translate(
    [
      { matches: [{ path: { value: '/pkg.Svc/' } }], backendRefs: backend },
      {
        matches: [{ path: { value: '/old' } }],
        filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'x' } }],
      },
      { matches: [{ path: { value: '/none' } }] },
    ],
    'grpc',
  );
  assert.equal(routes.length, 1);
  assert.deepEqual(routes[0]!.match?.pathSpecifier, { case: 'prefix', value: '/pkg.Svc' });
  assert.ok(notes.some((n) => /cannot follow redirects/.test(n)));
  assert.ok(notes.some((n) => /cannot answer with a fixed status/.test(n)));
});

test('timeouts and retries: malformed values drop the rule with a note', () => {
  const { routes, notes } = translate([
    {
      matches: [{ path: { value: '/t' } }],
      timeouts: { request: '10 seconds' },
      backendRefs: backend,
    },
    {
      matches: [{ path: { value: '/r' } }],
      retry: { attempts: 0 },
      timeouts: { request: '1s' },
      backendRefs: backend,
    },
  ]);
  assert.deepEqual(
    routes.map((r) => r.name),
    ['ns.r.1.0'],
  );
  const action = routes[0]!.action.case === 'route' ? routes[0]!.action.value : undefined;
  assert.equal(action?.retryPolicy, undefined, 'attempts: 0 disables retries');
  assert.equal(action?.timeout?.seconds, 1n);
  assert.match(notes[0]!, /timeouts.request "10 seconds"/);
});
