// HTTP/1.1 through the waypoint with real clients and servers: matching (path, header, query,
// method) in route order, weighted splits, header modifiers, redirects, rewrites, direct responses,
// mirrors, and the HTTP/1.1 details a proxy must get right (bodies, chunking, keep-alive,
// pipelining, 100-continue, HEAD, HTTP/1.0, malformed requests).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { test } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { httpBackend, rawExchange, request, testPort } from '../test-support/apps.js';
import {
  addHeader,
  cluster,
  endpoints,
  exactPath,
  forward,
  listener,
  prefix,
  routeConfig,
} from '../test-support/envoy-builders.js';
import { startFixture, type Fixture } from '../test-support/fixture.js';

const HBONE = testPort(1);
const V1 = 'outbound|80||v1.default.svc.cluster.local';
const V2 = 'outbound|80||v2.default.svc.cluster.local';
const SHADOW = 'outbound|80||shadow.default.svc.cluster.local';
const VIP = '10.96.1.1';

async function setup(t: import('node:test').TestContext): Promise<{
  f: Fixture;
  port: number;
  v1: Awaited<ReturnType<typeof httpBackend>>;
  v2: Awaited<ReturnType<typeof httpBackend>>;
  shadow: Awaited<ReturnType<typeof httpBackend>>;
}> {
  const bport = testPort(2);
  const routes = routeConfig('svc:80', [
    {
      name: 'svc',
      domains: ['*'],
      routes: [
        forward('exact-login', exactPath('/login'), V1),
        {
          name: 'old',
          match: prefix('/old/'),
          action: {
            case: 'redirect',
            value: {
              pathRewriteSpecifier: { case: 'prefixRewrite', value: '/new/' },
              responseCode: 0,
            },
          },
        },
        {
          name: 'gone',
          match: exactPath('/gone'),
          action: {
            case: 'directResponse',
            value: {
              status: 410,
              body: { specifier: { case: 'inlineString', value: 'gone for good' } },
            },
          },
        },
        forward(
          'alice',
          prefix('/', {
            headers: [
              {
                name: 'x-user',
                headerMatchSpecifier: {
                  case: 'stringMatch',
                  value: { matchPattern: { case: 'exact', value: 'alice' } },
                },
              },
            ],
          }),
          V2,
          {},
          {
            requestHeadersToAdd: [addHeader('x-route', 'alice', 2)],
            requestHeadersToRemove: ['x-debug'],
            responseHeadersToAdd: [addHeader('x-served', 'v2')],
          },
        ),
        forward(
          'dark',
          {
            pathSpecifier: { case: 'safeRegex', value: { regex: '/static/.*\\.css' } },
            queryParameters: [
              {
                name: 'theme',
                queryParameterMatchSpecifier: {
                  case: 'stringMatch',
                  value: { matchPattern: { case: 'exact', value: 'dark' } },
                },
              },
            ],
            headers: [
              {
                name: ':method',
                headerMatchSpecifier: {
                  case: 'stringMatch',
                  value: { matchPattern: { case: 'exact', value: 'GET' } },
                },
              },
            ],
          },
          V2,
          { regexRewrite: { pattern: { regex: '^/.*$' }, substitution: '/static/dark.css' } },
        ),
        forward('api', { pathSpecifier: { case: 'pathSeparatedPrefix', value: '/api' } }, V1, {
          prefixRewrite: '/v1',
          hostRewriteSpecifier: { case: 'hostRewriteLiteral', value: 'api.internal' },
        }),
        forward('mirrored', prefix('/mirror'), V1, {
          requestMirrorPolicies: [{ cluster: SHADOW }],
        }),
        {
          name: 'split',
          match: prefix('/split'),
          action: {
            case: 'route',
            value: {
              clusterSpecifier: {
                case: 'weightedClusters',
                value: {
                  clusters: [
                    { name: V1, weight: 90 },
                    { name: V2, weight: 10 },
                  ],
                },
              },
              timeout: { seconds: 0n },
            },
          },
        },
        forward('rest', prefix('/'), V1),
      ],
    },
  ]);
  const f = await startFixture({
    hbonePort: HBONE,
    envoy: {
      listeners: [listener([{ vip: VIP, port: 80, routes: 'svc:80' }])],
      routes: [routes],
      clusters: [cluster(V1), cluster(V2), cluster(SHADOW)],
      endpoints: [
        endpoints(V1, [
          { ip: '127.0.0.11', port: bport, identity: 'spiffe://cluster.local/ns/default/sa/v1' },
        ]),
        endpoints(V2, [
          { ip: '127.0.0.12', port: bport, identity: 'spiffe://cluster.local/ns/default/sa/v2' },
        ]),
        endpoints(SHADOW, [
          {
            ip: '127.0.0.13',
            port: bport,
            identity: 'spiffe://cluster.local/ns/default/sa/shadow',
          },
        ]),
      ],
    },
  });
  t.after(() => f.close());
  const v1 = await httpBackend(t, f.mesh, {
    ip: '127.0.0.11',
    port: bport,
    hbonePort: HBONE,
    name: 'v1',
  });
  const v2 = await httpBackend(t, f.mesh, {
    ip: '127.0.0.12',
    port: bport,
    hbonePort: HBONE,
    name: 'v2',
  });
  const shadow = await httpBackend(t, f.mesh, {
    ip: '127.0.0.13',
    port: bport,
    hbonePort: HBONE,
    name: 'shadow',
  });
  return { f, port: await f.sourcePort(VIP, 80), v1, v2, shadow };
}

test('routes in order: exact path, redirect, direct response, header match with modifiers, regex + query + method, prefix rewrite', async (t) => {
  const { port, v1, v2 } = await setup(t);
  let r = await request(port, { path: '/login?x=1' });
  assert.equal(r.body, 'v1 GET /login?x=1');

  r = await request(port, { path: '/old/a/b?q=1' });
  assert.equal(r.status, 301);
  assert.equal(r.headers.location, 'http://svc.default.svc.cluster.local/new/a/b?q=1');

  r = await request(port, { path: '/gone' });
  assert.deepEqual([r.status, r.body], [410, 'gone for good']);

  r = await request(port, {
    path: '/anything',
    headers: { 'x-user': 'alice', 'x-debug': '1', 'x-route': 'old' },
  });
  assert.equal(r.body, 'v2 GET /anything');
  assert.equal(r.headers['x-served'], 'v2');
  const seen = v2.seen.at(-1)!;
  assert.equal(seen.headers['x-route'], 'alice', 'overwritten');
  assert.equal(seen.headers['x-debug'], undefined, 'removed');

  r = await request(port, { path: '/static/site.css?theme=dark' });
  assert.equal(r.body, 'v2 GET /static/dark.css?theme=dark');
  r = await request(port, { path: '/static/site.css?theme=light' });
  assert.equal(r.body, 'v1 GET /static/site.css?theme=light', 'the query decides');
  r = await request(port, { path: '/static/site.css?theme=dark', method: 'POST', body: 'x' });
  assert.equal(r.body, 'v1 POST /static/site.css?theme=dark', 'the method decides');

  r = await request(port, { path: '/api/orders/7' });
  assert.equal(r.body, 'v1 GET /v1/orders/7');
  assert.equal(v1.seen.at(-1)!.headers.host, 'api.internal');
  r = await request(port, { path: '/apix' });
  assert.equal(r.body, 'v1 GET /apix', '/apix is not under the path-separated prefix /api');
  // The waypoint identifies itself to the destination, never the client.
  assert.deepEqual([...new Set(v1.peers)], ['spiffe://cluster.local/ns/default/sa/waypoint']);
});

test('a 90/10 weighted split over 1,000 requests lands within 3 % of its weights', async (t) => {
  const { port } = await setup(t);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  const counts = { v1: 0, v2: 0 };
  const all = [];
  for (let i = 0; i < 1000; i++)
    all.push(
      request(port, { path: '/split', agent }).then(
        (r) => counts[r.body.split(' ')[0] as 'v1' | 'v2']++,
      ),
    );
  await Promise.all(all);
  assert.equal(counts.v1 + counts.v2, 1000);
  assert.ok(Math.abs(counts.v2 - 100) <= 30, `v2 got ${counts.v2} of 1000`);
});

test('request mirroring sends a copy with the -shadow host and ignores its answer', async (t) => {
  const { port, shadow } = await setup(t);
  const r = await request(port, { path: '/mirror/x', method: 'POST', body: 'payload' });
  assert.equal(r.body, 'v1 POST /mirror/x');
  await eventually('the mirrored copy', () => shadow.seen.length > 0, 5_000);
  assert.equal(shadow.seen.length, 1);
  assert.equal(shadow.seen[0]!.headers.host, 'svc.default.svc.cluster.local-shadow');
  assert.equal(shadow.seen[0]!.body, 'payload');
});

test('bodies: 1 MiB each way intact (length and chunked), keep-alive, pipelining, 100-continue, HEAD, HTTP/1.0', async (t) => {
  const { port, v1 } = await setup(t);
  const big = randomBytes(1024 * 1024);
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  v1.seen.length = 0;
  let r = await request(port, { path: '/upload', method: 'PUT', body: big });
  assert.equal(r.status, 200, `${r.body} ${JSON.stringify(r.headers)}`);
  assert.equal(
    sha(Buffer.from(v1.seen[0]!.body, 'latin1')),
    sha(big),
    'length-framed upload intact',
  );

  // Chunked request body from a raw client, chunked response back.
  const raw = await rawExchange(
    port,
    'POST /chunks HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    (s) => s.includes('v1 POST /chunks'),
  );
  assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(v1.seen.at(-1)!.body, 'hello world');

  // Two pipelined requests answered in order on one connection.
  const piped = await rawExchange(
    port,
    'GET /p1 HTTP/1.1\r\nhost: x\r\n\r\nGET /p2 HTTP/1.1\r\nhost: x\r\n\r\n',
    (s) => s.includes('v1 GET /p2'),
  );
  assert.ok(piped.indexOf('v1 GET /p1') < piped.indexOf('v1 GET /p2'), piped);

  // Expect: 100-continue is answered by the waypoint before the body is sent.
  const cont = await rawExchange(
    port,
    'POST /c HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\nexpect: 100-continue\r\n\r\n',
    (s) => s.includes('100 Continue'),
  );
  assert.match(cont, /^HTTP\/1\.1 100 Continue\r\n\r\n/);

  r = await request(port, { path: '/h', method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(r.body, '');

  const old = await rawExchange(port, 'GET /ten HTTP/1.0\r\nhost: x\r\n\r\n');
  assert.match(old, /^HTTP\/1\.0 200 OK\r\n/);
  assert.match(old, /v1 GET \/ten$/);

  // A large response (1 MiB) through the waypoint.
  const bigReply = await new Promise<Buffer>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/big', agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d) => parts.push(d));
        res.on('end', () => resolve(Buffer.concat(parts)));
      })
      .on('error', reject);
  });
  assert.equal(bigReply.toString(), 'v1 GET /big');
});

test('malformed requests get a clear 4xx and never reach a backend', async (t) => {
  const { port, v1 } = await setup(t);
  v1.seen.length = 0;
  const cases: [string, RegExp][] = [
    [
      'GET / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n',
      /^HTTP\/1\.1 400 .*\r\n[\s\S]*both Content-Length and Transfer-Encoding/,
    ],
    ['GET / HTTP/1.1\r\nhost : x\r\n\r\n', /^HTTP\/1\.1 400 [\s\S]*whitespace before the colon/],
    ['GET / HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 400 [\s\S]*without a Host header/],
    ['GET / HTTP/2.5\r\nhost: x\r\n\r\n', /^HTTP\/1\.1 505 [\s\S]*unsupported protocol version/],
    [
      'GET / HTTP/1.1\r\nhost: x\r\nx-a: b\r\n c\r\n\r\n',
      /^HTTP\/1\.1 400 [\s\S]*obsolete line folding/,
    ],
    [`GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(70 * 1024)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
  ];
  for (const [req, want] of cases) assert.match(await rawExchange(port, req), want);
  assert.equal(v1.seen.length, 0);
});
