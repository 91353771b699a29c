// Cluster warming over a real xDS stream: a route update naming a cluster whose endpoints (EDS) have
// not arrived yet is held, and the last good routes keep serving, until the endpoints come (or the
// cluster's initial_fetch_timeout passes). Without it, the first requests after such an update were
// answered 503 and a request mirrored to two new clusters reached only one of them. A mirror that
// cannot be sent is counted by cluster and reason. The other side of such an update: a cluster
// removed while the applied routes still send to it keeps serving until they no longer name it,
// and requests already on it finish.
// The first two tests speak state-of-the-world xDS: there a ClusterLoadAssignment the server does
// not have yet is simply not sent, as when it is still on its way (delta answers "removed" for a
// name that does not exist, which warms the cluster with no endpoints, as in Envoy).
import { create } from '@bufbuild/protobuf';
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Http2ProtocolOptionsSchema } from '@trellis/api/gen/envoy/config/core/v3/protocol_pb.js';
import { eventually } from '@trellis/core/test-support';
import {
  h2Backend,
  httpBackend,
  metricSum,
  metricsText,
  request,
  testPort,
  type Reply,
} from '../test-support/apps.js';
import {
  addHeader,
  cluster,
  endpoints,
  forward,
  listener,
  prefix,
  routeConfig,
  type EnvoySet,
} from '../test-support/envoy-builders.js';
import { spiffe, startFixture, type Fixture } from '../test-support/fixture.js';

const HBONE = testPort(211);
const BPORT = testPort(212);
const VIP = '10.96.7.1';
const A = 'outbound|80||a.default.svc.cluster.local';
const B = 'outbound|80||b.default.svc.cluster.local';
const M1 = 'outbound|80||m1.default.svc.cluster.local';
const M2 = 'outbound|80||m2.default.svc.cluster.local';
const C = 'outbound|80||c.default.svc.cluster.local';
const IP: Record<string, string> = {
  [A]: '127.0.0.121',
  [B]: '127.0.0.122',
  [M1]: '127.0.0.123',
  [M2]: '127.0.0.124',
};
const eps = (name: string) =>
  endpoints(name, [
    { ip: IP[name]!, port: BPORT, identity: spiffe('default', name.split('|')[3]!) },
  ]);

/** Only A, routed to by "/" (the state before the update). */
const before: EnvoySet = {
  listeners: [listener([{ vip: VIP, port: 80, routes: 'r' }])],
  routes: [
    routeConfig('r', [{ name: 'r', domains: ['*'], routes: [forward('all', prefix('/'), A)] }]),
  ],
  clusters: [cluster(A)],
  endpoints: [eps(A)],
};

/** The update: "/new" to the new cluster B, "/" mirrored to the new clusters M1 and M2. */
function after(withEndpoints: readonly string[]): EnvoySet {
  return {
    listeners: before.listeners!,
    routes: [
      routeConfig('r', [
        {
          name: 'r',
          domains: ['*'],
          routes: [
            forward('new', prefix('/new'), B),
            forward('all', prefix('/'), A, {
              requestMirrorPolicies: [{ cluster: M1 }, { cluster: M2 }],
            }),
          ],
        },
      ]),
    ],
    clusters: [cluster(A), cluster(B), cluster(M1), cluster(M2)],
    endpoints: [A, ...withEndpoints].map(eps),
  };
}

async function setup(
  t: TestContext,
  protocol: 'sotw' | 'delta',
): Promise<{
  f: Fixture;
  port: number;
  seen: (name: string) => string[];
}> {
  const f = await startFixture({
    hbonePort: HBONE,
    envoy: before,
    extraArgs: ['--xds-protocol', protocol],
  });
  t.after(() => f.close());
  const backends = new Map<string, Awaited<ReturnType<typeof httpBackend>>>();
  for (const name of [A, B, M1, M2]) {
    const short = name.split('|')[3]!.split('.')[0]!;
    backends.set(
      name,
      await httpBackend(t, f.mesh, {
        ip: IP[name]!,
        port: BPORT,
        hbonePort: HBONE,
        name: name.split('|')[3]!,
        handler: (req, _body, res) => {
          const answer = () => res.end(`${short} ${req.method} ${req.url}`);
          if (req.url?.startsWith('/slow')) setTimeout(answer, 1000);
          else answer();
        },
      }),
    );
  }
  const port = await f.sourcePort(VIP, 80);
  assert.equal((await request(port, { path: '/new/0' })).body, 'a GET /new/0');
  return { f, port, seen: (name) => backends.get(name)!.seen.map((s) => s.url) };
}

/** Resolves once the waypoint accepted (ACKed) a route table that mentions `text`. */
async function routeAccepted(f: Fixture, text: string): Promise<void> {
  await eventually(`a route table naming ${text} accepted`, async () => {
    const dump = JSON.parse((await f.admin('/config_dump')).body) as { routes: unknown[] };
    return JSON.stringify(dump.routes).includes(text);
  });
}

test('a route to a cluster whose endpoints have not arrived is held: the last good routes serve, not 503', async (t) => {
  const { f, port, seen } = await setup(t, 'sotw');
  // The control plane's snapshot has B's cluster but not yet its endpoints: B is warming.
  f.xds.set(after([M1, M2]));
  await routeAccepted(f, B);
  const first = await request(port, { path: '/new/1' });
  assert.equal(first.status, 200, `the first request after the update: ${first.body}`);
  assert.equal(first.body, 'a GET /new/1', 'served by the last good routes while B warms');

  f.xds.set(after([B, M1, M2]));
  const body = await eventually('the held route applied once B is warm', async () => {
    const r = await request(port, { path: '/new/2' });
    return r.body.startsWith('b ') && r.body;
  });
  assert.equal(body, 'b GET /new/2');
  assert.deepEqual(seen(B), ['/new/2']);
});

test('a request mirrored to two new clusters reaches both, never only the one that was warm', async (t) => {
  const { f, port, seen } = await setup(t, 'sotw');
  f.xds.set(after([B, M1]));
  await routeAccepted(f, M2);
  assert.equal((await request(port, { path: '/m/1' })).body, 'a GET /m/1');

  f.xds.set(after([B, M1, M2]));
  await eventually('a mirrored request at M2', async () => {
    await request(port, { path: '/m/2' });
    return seen(M2).length > 0;
  });
  await eventually('every mirrored request at M1 too', () => seen(M1).length >= seen(M2).length);
  assert.deepEqual(seen(M1), seen(M2), 'each mirrored request reached both mirrors');
  assert.ok(!seen(M1).includes('/m/1'), 'the request served while M2 warmed was not mirrored');
});

test('a cluster whose endpoints never come warms after its initial_fetch_timeout; dropped mirrors are counted', async (t) => {
  const { f, port } = await setup(t, 'sotw');
  const slow = cluster(C, {
    edsClusterConfig: {
      edsConfig: {
        configSourceSpecifier: { case: 'ads', value: {} },
        initialFetchTimeout: { seconds: 2n },
      },
      serviceName: C,
    },
  });
  const absent = 'outbound|80||absent.default.svc.cluster.local';
  f.xds.set({
    ...before,
    routes: [
      routeConfig('r', [
        {
          name: 'r',
          domains: ['*'],
          routes: [
            forward('c', prefix('/c'), C),
            forward(
              'all',
              prefix('/'),
              A,
              { requestMirrorPolicies: [{ cluster: C }, { cluster: absent }] },
              { responseHeadersToAdd: [addHeader('x-generation', '2')] },
            ),
          ],
        },
      ]),
    ],
    clusters: [cluster(A), slow],
  });
  // No endpoints for C ever: the update is held, then applied once C's 2 s initial fetch timeout
  // passed (well before the 15 s default).
  await routeAccepted(f, C);
  const dump = JSON.parse((await f.admin('/config_dump')).body) as {
    xds: { typeUrl: string; waitingForClusters?: string[] }[];
  };
  assert.deepEqual(
    dump.xds.find((x) => x.typeUrl.endsWith('RouteConfiguration'))?.waitingForClusters,
    [C],
    'config_dump says what the held routes wait for',
  );
  assert.equal((await request(port, { path: '/c/0' })).body, 'a GET /c/0', 'still the old routes');
  assert.equal(
    metricSum(await metricsText(f), 'envoy_cluster_manager_warming_clusters'),
    1,
    'C is warming',
  );
  await eventually(
    'the update applied after the timeout',
    async () => (await request(port, { path: '/x' })).headers['x-generation'] === '2',
    10_000,
  );
  assert.equal((await request(port, { path: '/c/1' })).status, 503, 'C has no endpoints');
  assert.equal(
    metricSum(await metricsText(f), 'envoy_cluster_manager_warming_clusters'),
    0,
    'C gave up warming',
  );
  await request(port, { path: '/y' });
  const text = await eventually('the dropped mirrors counted', async () => {
    const m = await metricsText(f);
    return metricSum(m, 'envoy_cluster_upstream_rq_mirror_dropped', { cluster_name: C }) >= 2 && m;
  });
  assert.ok(
    metricSum(text, 'envoy_cluster_upstream_rq_mirror_dropped', {
      cluster_name: C,
      response_flags: 'UH',
    }) >= 2,
    'no healthy upstream in C',
  );
  assert.ok(
    metricSum(text, 'envoy_cluster_upstream_rq_mirror_dropped', {
      cluster_name: absent,
      response_flags: 'NC',
    }) >= 2,
    'no cluster named "absent"',
  );
});

/** "/" moved from A to B and A removed, with the endpoints of `withEndpoints` only. */
function moved(withEndpoints: readonly string[]): EnvoySet {
  return {
    listeners: before.listeners!,
    routes: [
      routeConfig('r', [{ name: 'r', domains: ['*'], routes: [forward('all', prefix('/'), B)] }]),
    ],
    clusters: [cluster(B)],
    endpoints: withEndpoints.map(eps),
  };
}

/** The slow request's reply; a failure naming `what` if none came 10 s after A was removed. */
function answeredAfterRemoval(slow: Promise<Reply>, what: string): Promise<Reply> {
  return Promise.race([
    slow,
    sleep(10_000).then(() => assert.fail(`${what}: no answer 10 s after A was removed`)),
  ]);
}

/** The names of the clusters the waypoint holds (admin /clusters). */
async function heldClusters(f: Fixture): Promise<string[]> {
  const dump = JSON.parse((await f.admin('/clusters')).body) as { name: string }[];
  return dump.map((c) => c.name).sort();
}

test('a cluster removed while the applied routes still send to it serves until they no longer name it', async (t) => {
  const { f, port, seen } = await setup(t, 'sotw');
  // CDS removes A and brings B, still warming: the route update moving "/" to B is held, so the
  // routes in use still send "/" to A (which found no cluster: 500, flag NC).
  f.xds.set(moved([]));
  await routeAccepted(f, B);
  const during = await request(port, { path: '/x/1' });
  assert.deepEqual([during.status, during.body], [200, 'a GET /x/1'], 'A still serves');
  assert.deepEqual(await heldClusters(f), [A, B]);

  f.xds.set(moved([B]));
  await eventually(
    'the held route applied once B is warm',
    async () => (await request(port, { path: '/x/2' })).body === 'b GET /x/2',
  );
  await eventually('A removed once no route names it', async () => {
    const held = await heldClusters(f);
    return held.join() === B && held;
  });
  assert.deepEqual(seen(B), ['/x/2']);
});

test('a removed cluster the routes go on naming (its Service deleted) goes after a grace: no cluster', async (t) => {
  const { f, port } = await setup(t, 'sotw');
  // The control plane keeps a deleted Service's cluster name in the route, so that its requests
  // fail as Gateway API asks; the cluster is not kept for ever.
  f.xds.set({ ...before, clusters: [], endpoints: [] });
  const r = await eventually('no cluster for the removed cluster', async () => {
    const x = await request(port, { path: '/gone' });
    return x.status !== 200 && x;
  });
  // The route's cluster_not_found_response_code: 503 unset, as here (the control plane sets 500).
  assert.equal(r.status, 503, JSON.stringify(r));
  assert.deepEqual(await heldClusters(f), []);
});

for (const protocol of ['sotw', 'delta'] as const)
  test(`a request on a cluster that is removed finishes on its connection (${protocol})`, async (t) => {
    const { f, port, seen } = await setup(t, protocol);
    const slow = request(port, { path: '/slow/1' });
    await eventually('the slow request at A', () => seen(A).includes('/slow/1'));
    // The whole update at once: "/" to B, A removed while its request is still being answered.
    f.xds.set(moved([B]));
    await eventually(
      `${protocol}: "/" served by B`,
      async () => (await request(port, { path: '/x' })).body === 'b GET /x',
    );
    assert.ok(!(await heldClusters(f)).includes(A), `${protocol}: A removed`);
    const r = await answeredAfterRemoval(slow, protocol);
    assert.deepEqual([r.status, r.body], [200, 'a GET /slow/1'], `${protocol}: answered by A`);
  });

test('a request on a removed HTTP/2 cluster finishes on its session', async (t) => {
  const h2 = { http2ProtocolOptions: create(Http2ProtocolOptionsSchema) };
  const f = await startFixture({
    hbonePort: HBONE,
    envoy: { ...before, clusters: [cluster(A, h2)] },
  });
  t.after(() => f.close());
  await h2Backend(t, f.mesh, {
    ip: IP[A]!,
    port: BPORT,
    hbonePort: HBONE,
    name: A.split('|')[3]!,
    onStream: (stream, headers) => {
      stream.resume();
      stream.on('end', () =>
        setTimeout(() => {
          stream.respond({ ':status': 200 });
          stream.end(`a ${headers[':path']}`);
        }, 1000),
      );
    },
  });
  const b = B.split('|')[3]!;
  await httpBackend(t, f.mesh, { ip: IP[B]!, port: BPORT, hbonePort: HBONE, name: b });
  const port = await f.sourcePort(VIP, 80);
  assert.equal((await request(port, { path: '/first' })).body, 'a /first', 'A serves at first');
  const slow = request(port, { path: '/slow/1' });
  await sleep(300);
  f.xds.set(moved([B]));
  await eventually('"/" served by B', async () =>
    (await request(port, { path: '/x' })).body.startsWith(`${b} `),
  );
  assert.ok(!(await heldClusters(f)).includes(A), 'A removed');
  const r = await answeredAfterRemoval(slow, 'http2');
  assert.deepEqual([r.status, r.body], [200, 'a /slow/1'], 'answered by A over its session');
});
