// The CORS filter through the gateway role with real HTTP: an HTTP listener whose chain has
// envoy.filters.http.cors and routes carrying CorsPolicy (as the control plane translates an
// HTTPRoute CORS filter), to a mesh backend over HBONE. Allowed preflights are answered by the
// gateway (the backend never sees them), other requests get Access-Control-* response headers,
// origins not allowed get none; a policy the engine cannot honour is NACKed with its field and
// reason while the last good config keeps serving.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { packAny } from '@trellis/api';
import {
  CorsPolicySchema,
  CorsSchema,
} from '@trellis/api/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { eventually } from '@trellis/core/test-support';
import { httpBackend, request, testPort } from '../test-support/apps.js';
import {
  cluster,
  endpoints,
  forward,
  prefix,
  routeConfig,
  type Named,
} from '../test-support/envoy-builders.js';
import { lastNack, spiffe, startFixture } from '../test-support/fixture.js';
import { gatewayListener } from '../test-support/gateway-builders.js';

const HBONE = testPort(181);
const HTTP = testPort(182);
const APP = testPort(183);
const A = 'outbound|80||a.default.svc.cluster.local';
const CORS = 'envoy.filters.http.cors';

type PolicyInit = MessageInitShape<typeof CorsPolicySchema>;

const exact = (v: string) => ({
  matchPattern: { case: 'exact' as const, value: v },
  ignoreCase: true,
});
const regex = (v: string) => ({
  matchPattern: { case: 'safeRegex' as const, value: { regex: v } },
  ignoreCase: true,
});

/** What the control plane makes of the suite's `cors-multiple-origins-methods-headers`. */
const STRICT: PolicyInit = {
  allowOriginStringMatch: [exact('https://www.foo.com'), regex('https://[^/:]+\\.bar\\.com')],
  allowMethods: 'GET, OPTIONS',
  allowHeaders: 'x-header-1, x-header-2',
  exposeHeaders: 'x-header-3, x-header-4',
  maxAge: '3600',
  allowCredentials: true,
  forwardNotMatchingPreflights: false,
};
/** Envoy's default: a preflight from an origin not allowed goes on to the upstream. */
const FORWARDING: PolicyInit = { allowOriginStringMatch: [exact('https://www.foo.com')] };
/** allowOrigins ["*"], allowMethods ["*"], allowHeaders ["*"], no credentials. */
const OPEN: PolicyInit = {
  allowOriginStringMatch: [regex('.+')],
  allowMethods: '*',
  allowHeaders: '*',
  maxAge: '5',
};

function routes(strict: PolicyInit): Named {
  const withCors = (p: PolicyInit) => ({
    typedPerFilterConfig: { [CORS]: packAny(CorsPolicySchema, create(CorsPolicySchema, p)) },
  });
  return routeConfig(`http.${HTTP}`, [
    {
      name: 'all',
      domains: ['*'],
      routes: [
        forward('strict', prefix('/cors-1'), A, {}, withCors(strict)),
        forward('open', prefix('/open'), A, {}, withCors(OPEN)),
        forward('forwarding', prefix('/fwd'), A, {}, withCors(FORWARDING)),
        forward('plain', prefix('/'), A),
      ],
    },
  ]);
}

function envoy(strict: PolicyInit) {
  return {
    listeners: [
      gatewayListener(HTTP, [
        {
          name: 'http',
          routes: `http.${HTTP}`,
          httpFilters: [
            {
              name: CORS,
              configType: {
                case: 'typedConfig' as const,
                value: packAny(CorsSchema, create(CorsSchema)),
              },
            },
          ],
        },
      ]),
    ],
    routes: [routes(strict)],
    clusters: [cluster(A)],
    endpoints: [endpoints(A, [{ ip: '127.0.0.181', port: APP, identity: spiffe('default', 'a') }])],
  };
}

const preflight = (path: string, origin: string, method: string, headers?: string) =>
  request(HTTP, {
    path,
    method: 'OPTIONS',
    headers: {
      host: 'shop.example.com',
      origin,
      'access-control-request-method': method,
      ...(headers ? { 'access-control-request-headers': headers } : {}),
    },
  });

const get = (path: string, origin?: string) =>
  request(HTTP, {
    path,
    headers: { host: 'shop.example.com', ...(origin ? { origin } : {}) },
  });

const CORS_HEADERS = [
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'access-control-max-age',
];
const corsHeaders = (h: Record<string, unknown>) =>
  Object.fromEntries(CORS_HEADERS.filter((n) => h[n] !== undefined).map((n) => [n, h[n]]));

test('gateway: CORS preflights answered, response headers added, bad policies NACKed', async (t) => {
  const f = await startFixture({
    hbonePort: HBONE,
    identity: spiffe('istio-ingress', 'gw'),
    extraArgs: ['--role', 'gateway', '--listener-host', '127.0.0.1', '--gateway-name', 'gw'],
    envoy: envoy(STRICT),
  });
  t.after(() => f.close());
  const a = await httpBackend(t, f.mesh, {
    ip: '127.0.0.181',
    port: APP,
    hbonePort: HBONE,
    name: 'a',
  });
  await eventually('the gateway listener serves', async () => (await get('/x')).status === 200);

  await t.test(
    'an allowed preflight (exact or "*." origin) is answered by the gateway',
    async () => {
      const before = a.seen.length;
      for (const origin of [
        'https://www.foo.com',
        'https://www.bar.com',
        'https://xpto.www.bar.com',
      ]) {
        const r = await preflight('/cors-1', origin, 'GET', 'x-header-1, x-header-2');
        assert.equal(r.status, 200, origin);
        assert.deepEqual(corsHeaders(r.headers), {
          'access-control-allow-origin': origin,
          'access-control-allow-credentials': 'true',
          'access-control-allow-methods': 'GET, OPTIONS',
          'access-control-allow-headers': 'x-header-1, x-header-2',
          'access-control-expose-headers': 'x-header-3, x-header-4',
          'access-control-max-age': '3600',
        });
        assert.equal(r.body, '');
      }
      assert.equal(a.seen.length, before, 'the backend saw no preflight');
    },
  );

  await t.test(
    'a preflight from an origin not allowed: 200 without CORS headers, or upstream if asked',
    async () => {
      const before = a.seen.length;
      for (const origin of ['https://foobar.com', 'https://bar.com', 'http://www.foo.com']) {
        const r = await preflight('/cors-1', origin, 'GET');
        assert.deepEqual([r.status, r.body], [200, ''], origin);
        assert.deepEqual(corsHeaders(r.headers), {}, origin);
      }
      assert.equal(a.seen.length, before, 'the backend saw no preflight');
      const fwd = await preflight('/fwd', 'https://foobar.com', 'GET');
      assert.equal(fwd.body, 'a OPTIONS /fwd', 'forward_not_matching_preflights unset');
      assert.deepEqual(corsHeaders(fwd.headers), {});
    },
  );

  await t.test('a request from an allowed origin gets the CORS response headers', async () => {
    const r = await get('/cors-1/page', 'https://www.bar.com');
    assert.deepEqual([r.status, r.body], [200, 'a GET /cors-1/page']);
    assert.deepEqual(corsHeaders(r.headers), {
      'access-control-allow-origin': 'https://www.bar.com',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-header-3, x-header-4',
    });
    const denied = await get('/cors-1/page', 'https://foobar.com');
    assert.deepEqual([denied.status, denied.body], [200, 'a GET /cors-1/page']);
    assert.deepEqual(corsHeaders(denied.headers), {});
    assert.deepEqual(corsHeaders((await get('/cors-1/page')).headers), {}, 'no Origin');
    assert.deepEqual(
      corsHeaders((await get('/other', 'https://www.foo.com')).headers),
      {},
      'a route without a policy',
    );
  });

  await t.test('"*" methods and headers answer what the preflight asked for', async () => {
    const r = await preflight('/open', 'https://foobar.com:12345', 'PUT', 'x-a, x-b');
    assert.equal(r.status, 200);
    assert.deepEqual(corsHeaders(r.headers), {
      'access-control-allow-origin': 'https://foobar.com:12345',
      'access-control-allow-methods': 'PUT',
      'access-control-allow-headers': 'x-a, x-b',
      'access-control-max-age': '5',
    });
    const put = await request(HTTP, {
      path: '/open',
      method: 'PUT',
      headers: { host: 'shop.example.com', origin: 'https://foobar.com' },
    });
    assert.deepEqual(
      [put.body, put.headers['access-control-allow-origin']],
      ['a PUT /open', 'https://foobar.com'],
    );
    assert.equal(put.headers['access-control-allow-credentials'], undefined);
  });

  await t.test(
    'a policy the engine cannot honour is NACKed; the last good one keeps serving',
    async () => {
      f.xds.set(envoy({ ...STRICT, maxAge: 'an hour' }));
      const nack = await eventually('the route NACK in config_dump', () =>
        lastNack(f, 'RouteConfiguration'),
      );
      assert.match(
        nack,
        /typed_per_filter_config\[envoy\.filters\.http\.cors\]\.max_age: "an hour" is not a number of seconds/,
      );
      const r = await preflight('/cors-1', 'https://www.foo.com', 'GET');
      assert.equal(r.headers['access-control-max-age'], '3600', 'still the last good policy');
    },
  );
});
