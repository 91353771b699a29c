// Resilience through the waypoint: retries turning a flaky backend's 503s into 200s, route and
// per-try timeouts (504), outlier ejection of a failing host, circuit breakers (503 overflow with
// the counter), least-request and consistent-hash balancing, fault injection.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test, type TestContext } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import {
  httpBackend,
  metricSum,
  metricsText,
  request,
  testPort,
  type Handler,
} from '../test-support/apps.js';
import {
  cluster,
  endpoints,
  forward,
  listener,
  prefix,
  routeConfig,
} from '../test-support/envoy-builders.js';
import { startFixture, type Fixture } from '../test-support/fixture.js';
import { create } from '@bufbuild/protobuf';
import { packAny } from '@trellis/api';
import { HTTPFaultSchema } from '@trellis/api/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { Cluster_LbPolicy } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';

const HBONE = testPort(21);
const C = 'outbound|80||app.default.svc.cluster.local';
const VIP = '10.96.2.1';

interface Setup {
  f: Fixture;
  port: number;
}

async function setup(
  t: TestContext,
  o: {
    routes: Parameters<typeof routeConfig>[1];
    cluster?: Parameters<typeof cluster>[1];
    handlers: Handler[];
    filters?: Parameters<typeof listener>[0][number]['httpFilters'];
  },
): Promise<Setup> {
  const bport = testPort(22);
  const ips = o.handlers.map((_, i) => `127.0.0.${31 + i}`);
  const f = await startFixture({
    hbonePort: HBONE,
    envoy: {
      listeners: [
        listener([
          {
            vip: VIP,
            port: 80,
            routes: 'app:80',
            ...(o.filters ? { httpFilters: o.filters } : {}),
          },
        ]),
      ],
      routes: [routeConfig('app:80', o.routes)],
      clusters: [cluster(C, o.cluster)],
      endpoints: [
        endpoints(
          C,
          ips.map((ip, i) => ({
            ip,
            port: bport,
            identity: `spiffe://cluster.local/ns/default/sa/b${i}`,
          })),
        ),
      ],
    },
  });
  t.after(() => f.close());
  for (const [i, handler] of o.handlers.entries())
    await httpBackend(t, f.mesh, {
      ip: ips[i]!,
      port: bport,
      hbonePort: HBONE,
      name: `b${i}`,
      handler,
    });
  return { f, port: await f.sourcePort(VIP, 80) };
}

const ok =
  (name: string): Handler =>
  (_req, _body, res) =>
    res.end(name);

test("retries turn a flaky backend's 503s into 200s (retry_on 5xx, 3 retries, back-off)", async (t) => {
  let calls = 0;
  const flaky: Handler = (_req, _body, res) => {
    calls++;
    if (calls % 3 !== 0) {
      res.statusCode = 503;
      res.end('flaky');
    } else res.end('finally');
  };
  const { f, port } = await setup(t, {
    routes: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          forward('all', prefix('/'), C, {
            retryPolicy: {
              retryOn: '5xx',
              numRetries: 3,
              retryBackOff: { baseInterval: { nanos: 5_000_000 } },
            },
          }),
        ],
      },
    ],
    handlers: [flaky],
  });
  for (let i = 0; i < 5; i++) {
    const r = await request(port, { path: `/r${i}` });
    assert.deepEqual([r.status, r.body], [200, 'finally']);
  }
  assert.equal(calls, 15, 'each request took three tries');
  const m = await metricsText(f);
  assert.equal(metricSum(m, 'envoy_cluster_upstream_rq_retry', { cluster_name: C }), 10);
});

test('without retries the 503 reaches the client; with too few retries too', async (t) => {
  const { port } = await setup(t, {
    routes: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          forward('all', prefix('/'), C, {
            retryPolicy: {
              retryOn: 'retriable-status-codes',
              retriableStatusCodes: [502],
              numRetries: 2,
            },
          }),
        ],
      },
    ],
    handlers: [
      (_r, _b, res) => {
        res.statusCode = 503;
        res.end('no');
      },
    ],
  });
  const r = await request(port);
  assert.deepEqual([r.status, r.body], [503, 'no'], '503 is not in retriable_status_codes');
});

test('a route timeout answers 504 "upstream request timeout"; a per-try timeout retries', async (t) => {
  let n = 0;
  let lateSent = false;
  const slowFirst: Handler = (_req, _body, res) => {
    n++;
    if (n === 1)
      setTimeout(() => {
        lateSent = true;
        res.end('late');
      }, 1500);
    else res.end('fast');
  };
  const { port } = await setup(t, {
    routes: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          forward('slow', prefix('/slow'), C, { timeout: { nanos: 300_000_000 } }),
          forward('per-try', prefix('/try'), C, {
            timeout: { seconds: 5n },
            retryPolicy: { retryOn: '5xx', numRetries: 2, perTryTimeout: { nanos: 300_000_000 } },
          }),
        ],
      },
    ],
    handlers: [slowFirst],
  });
  const r = await request(port, { path: '/slow' });
  assert.deepEqual([r.status, r.body], [504, 'upstream request timeout']);
  assert.equal(lateSent, false, 'answered at the timeout, before the backend answered');
  n = 0;
  const r2 = await request(port, { path: '/try' });
  assert.deepEqual(
    [r2.status, r2.body],
    [200, 'fast'],
    'the slow first try was abandoned and retried',
  );
});

test('outlier detection ejects the host that keeps failing; traffic goes to the healthy one', async (t) => {
  const { f, port } = await setup(t, {
    routes: [{ name: 'v', domains: ['*'], routes: [forward('all', prefix('/'), C)] }],
    cluster: {
      outlierDetection: {
        consecutive5xx: 3,
        interval: { seconds: 10n },
        baseEjectionTime: { seconds: 30n },
        maxEjectionPercent: 50,
      },
    },
    handlers: [
      ok('good'),
      (_r, _b, res) => {
        res.statusCode = 500;
        res.end('bad');
      },
    ],
  });
  const bodies: string[] = [];
  for (let i = 0; i < 40; i++) bodies.push((await request(port)).body);
  const bad = bodies.filter((b) => b === 'bad').length;
  assert.equal(bad, 3, `the failing host answered ${bad} times before ejection`);
  assert.ok(bodies.slice(-30).every((b) => b === 'good'));
  const clusters = JSON.parse((await f.admin('/clusters')).body) as {
    name: string;
    hosts: { ejected: boolean; address: string }[];
  }[];
  assert.deepEqual(
    clusters.find((c) => c.name === C)!.hosts.map((h) => h.ejected),
    [false, true],
  );
  const m = await metricsText(f);
  assert.equal(
    metricSum(m, 'envoy_cluster_outlier_detection_ejections_active', { cluster_name: C }),
    1,
  );
});

test('circuit breakers: past max_connections and max_pending_requests the waypoint answers 503 (UO) and counts upstream_rq_pending_overflow', async (t) => {
  const held: http.ServerResponse[] = [];
  const { f, port } = await setup(t, {
    routes: [{ name: 'v', domains: ['*'], routes: [forward('all', prefix('/'), C)] }],
    cluster: { circuitBreakers: { thresholds: [{ maxConnections: 1, maxPendingRequests: 1 }] } },
    handlers: [(_r, _b, res) => held.push(res)],
  });
  const first = request(port, { path: '/1' });
  await eventually('a request held at the backend', () => held.length > 0);
  const second = request(port, { path: '/2' }); // waits for the one connection
  await new Promise((r) => setTimeout(r, 100));
  const third = await request(port, { path: '/3' });
  assert.equal(third.status, 503);
  assert.match(third.body, /overflow/);
  held.shift()!.end('one');
  await eventually('a request held at the backend', () => held.length > 0);
  held.shift()!.end('two');
  assert.equal((await first).body, 'one');
  assert.equal((await second).body, 'two');
  const m = await metricsText(f);
  assert.equal(metricSum(m, 'envoy_cluster_upstream_rq_pending_overflow', { cluster_name: C }), 1);
  assert.equal(
    metricSum(m, 'istio_requests_total', { response_code: '503', response_flags: 'UO' }),
    1,
  );
});

test('consistent hashing keeps a user on one host; least request avoids the busy one', async (t) => {
  const { port } = await setup(t, {
    routes: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          forward('all', prefix('/'), C, {
            hashPolicy: [{ policySpecifier: { case: 'header', value: { headerName: 'x-user' } } }],
          }),
        ],
      },
    ],
    cluster: { lbPolicy: Cluster_LbPolicy.RING_HASH },
    handlers: [ok('b0'), ok('b1'), ok('b2')],
  });
  for (const user of ['ann', 'bob', 'cyd', 'dee']) {
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++)
      seen.add((await request(port, { headers: { 'x-user': user } })).body);
    assert.equal(seen.size, 1, `${user} went to ${[...seen].join(', ')}`);
  }
  const spread = new Set<string>();
  for (let i = 0; i < 40; i++)
    spread.add((await request(port, { headers: { 'x-user': `u${i}` } })).body);
  assert.ok(spread.size >= 2, 'different users spread over the hosts');
});

test('fault injection: an abort answers with its status (FI), a delay holds the request (DI); per route', async (t) => {
  const faultFilter = {
    name: 'envoy.filters.http.fault',
    configType: {
      case: 'typedConfig' as const,
      value: packAny(HTTPFaultSchema, create(HTTPFaultSchema)),
    },
  };
  const abort = packAny(
    HTTPFaultSchema,
    create(HTTPFaultSchema, {
      abort: { errorType: { case: 'httpStatus', value: 418 }, percentage: { numerator: 100 } },
    }),
  );
  const delay = packAny(
    HTTPFaultSchema,
    create(HTTPFaultSchema, {
      delay: {
        faultDelaySecifier: { case: 'fixedDelay', value: { nanos: 400_000_000 } },
        percentage: { numerator: 100 },
      },
    }),
  );
  const { f, port } = await setup(t, {
    routes: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          forward(
            'abort',
            prefix('/abort'),
            C,
            {},
            { typedPerFilterConfig: { 'envoy.filters.http.fault': abort } },
          ),
          forward(
            'delay',
            prefix('/delay'),
            C,
            {},
            { typedPerFilterConfig: { 'envoy.filters.http.fault': delay } },
          ),
          forward('plain', prefix('/'), C),
        ],
      },
    ],
    filters: [faultFilter],
    handlers: [ok('real')],
  });
  const a = await request(port, { path: '/abort' });
  assert.deepEqual([a.status, a.body], [418, 'fault filter abort']);
  const t0 = Date.now();
  const d = await request(port, { path: '/delay' });
  assert.equal(d.body, 'real');
  assert.ok(Date.now() - t0 >= 380, 'delayed');
  assert.equal((await request(port, { path: '/other' })).body, 'real');
  const m = await metricsText(f);
  assert.equal(
    metricSum(m, 'istio_requests_total', { response_code: '418', response_flags: 'FI' }),
    1,
  );
  assert.equal(
    metricSum(m, 'istio_requests_total', { response_code: '200', response_flags: 'DI' }),
    1,
  );
});
