// The gateway role end to end in-process, with real TLS, HTTP/1.1, h2, gRPC and TCP clients: an
// HTTPS listener with two certificates chosen by SNI (exact and wildcard chains), routed by path to
// two mesh backends over HBONE with the gateway's identity; the HTTP listener redirecting to HTTPS;
// h2 by ALPN and a gRPC call through a route, and 421 for a name the route configuration marks
// misdirected; TLS passthrough by SNI to a TLS app whose certificate the client sees, and to a
// cluster never served (reset); TLS terminated by SNI on the same port in front of plain TCP; a
// TCP listener to a non-mesh endpoint; metrics with reporter="source", the access log, the router~
// node id.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { Http2ProtocolOptionsSchema } from '@trellis/api/gen/envoy/config/core/v3/protocol_pb.js';
import { httpBackend, metricSum, request, testPort } from '../test-support/apps.js';
import {
  cluster,
  endpoints,
  forward,
  prefix,
  routeConfig,
} from '../test-support/envoy-builders.js';
import { spiffe, startDestination, startFixture, type Fixture } from '../test-support/fixture.js';
import { startOtlpReceiver } from '../test-support/otlp-receiver.js';
import { ECHO } from '../test-support/grpc-echo.js';
import { eventually } from '@trellis/core/test-support';
import { gatewayListener, tlsSecret } from '../test-support/gateway-builders.js';
import {
  hostCert,
  httpsRequest,
  ingressRoot,
  tlsExchange,
} from '../test-support/gateway-clients.js';

const HBONE = testPort(71);
const HTTPS = testPort(72);
const HTTP = testPort(73);
const PASS = testPort(74);
const TCP = testPort(75);
const APP = testPort(76);
const BOTH = testPort(77);
const GW_ID = spiffe('istio-ingress', 'gw');
const A = 'outbound|80||a.default.svc.cluster.local';
const B = 'outbound|80||b.default.svc.cluster.local';
const G = 'outbound|9090||echo.default.svc.cluster.local';
const TLSAPP = 'outbound|443||secure.default.svc.cluster.local';
const LEGACY = 'outbound|9000||legacy.example.internal';
const UNSERVED = 'invalid-backend|default/broken';
const SECRET_A = 'kubernetes://istio-ingress/a-cert';
const SECRET_B = 'kubernetes://istio-ingress/wildcard-cert';

interface World {
  f: Fixture;
  rootPem: string;
  log: string[];
  a: Awaited<ReturnType<typeof httpBackend>>;
  b: Awaited<ReturnType<typeof httpBackend>>;
  otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
}

async function setup(t: TestContext): Promise<World> {
  const root = await ingressRoot();
  const [certA, certB, certApp] = await Promise.all([
    hostCert(root, 'a.example.com'),
    hostCert(root, '*.example.com'),
    hostCert(root, 'pass.example.com'),
  ]);
  const log: string[] = [];
  const otlp = await startOtlpReceiver();
  t.after(() => otlp.close());
  const f = await startFixture({
    hbonePort: HBONE,
    identity: GW_ID,
    accessLog: log,
    extraArgs: [
      ...['--role', 'gateway', '--listener-host', '127.0.0.1', '--gateway-name', 'gw'],
      ...['--otlp-endpoint', otlp.endpoint, '--trace-sampling', '100'],
    ],
    envoy: {
      listeners: [
        gatewayListener(HTTPS, [
          {
            name: 'a',
            serverNames: ['a.example.com'],
            tls: { sds: [SECRET_A] },
            routes: `https.${HTTPS}`,
            // As the control plane sets it on every gateway chain.
            hcm: { useRemoteAddress: true },
          },
          {
            name: 'wildcard',
            serverNames: ['*.example.com'],
            tls: { sds: [SECRET_B] },
            routes: `https.${HTTPS}`,
          },
        ]),
        // One chain with both certificates, as the control plane builds a Gateway listener with
        // two certificateRefs: the handshake picks by SNI.
        gatewayListener(BOTH, [
          { name: 'both', tls: { sds: [SECRET_A, SECRET_B] }, routes: `https.${HTTPS}` },
        ]),
        gatewayListener(HTTP, [{ name: 'http', routes: `http.${HTTP}` }]),
        gatewayListener(PASS, [
          { name: 'pass', serverNames: ['pass.example.com'], tcpCluster: TLSAPP },
          // A TLSRoute whose backends are all invalid: the control plane names a cluster it never serves.
          { name: 'invalid', serverNames: ['invalid.example.com'], tcpCluster: UNSERVED },
          // A TLSRoute on a listener in mode Terminate, on the same port (TLSRouteModeMixed):
          // the gateway's certificate, no ALPN, the decrypted stream to a plain TCP backend.
          {
            name: 'terminate',
            serverNames: ['term.example.com'],
            tls: { sds: [SECRET_B], alpn: [] },
            tcpCluster: LEGACY,
          },
        ]),
        gatewayListener(TCP, [{ name: 'tcp', tcpCluster: LEGACY }]),
      ],
      routes: [
        routeConfig(`https.${HTTPS}`, [
          {
            name: 'a.example.com',
            domains: ['a.example.com', `a.example.com:${HTTPS}`],
            routes: [
              forward('v1', prefix('/v1'), A),
              forward('v2', prefix('/v2'), B),
              forward('grpc', prefix('/echo.Echo/'), G),
            ],
          },
          {
            name: 'b.example.com',
            domains: ['b.example.com', `b.example.com:${HTTPS}`],
            routes: [forward('b', prefix('/'), B)],
          },
          // A name another listener of the port serves: the control plane answers 421.
          {
            name: 'misdirected',
            domains: ['other.example.com', `other.example.com:${HTTPS}`],
            routes: [
              {
                name: 'misdirected-request',
                match: prefix('/'),
                action: { case: 'directResponse', value: { status: 421 } },
              },
            ],
          },
        ]),
        routeConfig(`http.${HTTP}`, [
          {
            name: 'redirect',
            domains: ['*'],
            routes: [
              {
                name: 'to-https',
                match: prefix('/'),
                action: {
                  case: 'redirect',
                  value: { schemeRewriteSpecifier: { case: 'schemeRedirect', value: 'https' } },
                },
              },
            ],
          },
        ]),
      ],
      clusters: [
        cluster(A),
        cluster(B),
        cluster(G, { http2ProtocolOptions: create(Http2ProtocolOptionsSchema) }),
        cluster(TLSAPP),
        cluster(LEGACY),
      ],
      endpoints: [
        endpoints(A, [{ ip: '127.0.0.71', port: APP, identity: spiffe('default', 'a') }]),
        endpoints(B, [{ ip: '127.0.0.72', port: APP, identity: spiffe('default', 'b') }]),
        endpoints(G, [{ ip: '127.0.0.73', port: APP, identity: spiffe('default', 'echo') }]),
        endpoints(TLSAPP, [{ ip: '127.0.0.74', port: APP, identity: spiffe('default', 'secure') }]),
        // No HBONE metadata: outside the mesh, plain TCP.
        endpoints(LEGACY, [{ ip: '127.0.0.75', port: APP }]),
      ],
      secrets: [
        tlsSecret(SECRET_A, certA.certChain, certA.privateKey),
        tlsSecret(SECRET_B, certB.certChain, certB.privateKey),
      ],
    },
  });
  t.after(() => f.close());
  const a = await httpBackend(t, f.mesh, {
    ip: '127.0.0.71',
    port: APP,
    hbonePort: HBONE,
    name: 'a',
  });
  const b = await httpBackend(t, f.mesh, {
    ip: '127.0.0.72',
    port: APP,
    hbonePort: HBONE,
    name: 'b',
  });
  // gRPC app behind its ztunnel.
  const grpcServer = new grpc.Server();
  grpcServer.addService(ECHO, {
    say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, Buffer.from(`echo ${call.request.toString()}`)),
  });
  await new Promise<void>((resolve, reject) =>
    grpcServer.bindAsync(`127.0.0.73:${APP}`, grpc.ServerCredentials.createInsecure(), (e) =>
      e ? reject(e) : resolve(),
    ),
  );
  t.after(() => grpcServer.forceShutdown());
  const g = await startDestination(f.mesh, '127.0.0.73', HBONE, spiffe('default', 'echo'));
  t.after(() => g.server.close({ drainMs: 0 }));
  // A TLS app with its own certificate (passthrough): answers with the SNI it saw.
  const app = tls.createServer({ key: certApp.privateKey, cert: certApp.certChain }, (s) => {
    s.on('data', (d: Buffer) => s.end(`tls app got ${d.toString()} for ${s.servername}`));
  });
  app.listen(APP, '127.0.0.74');
  await once(app, 'listening');
  t.after(() => app.close());
  const s = await startDestination(f.mesh, '127.0.0.74', HBONE, spiffe('default', 'secure'));
  t.after(() => s.server.close({ drainMs: 0 }));
  // A plain TCP echo outside the mesh.
  const echo = net.createServer((c) => c.on('data', (d: Buffer) => c.write(`echo:${d}`)));
  echo.listen(APP, '127.0.0.75');
  await once(echo, 'listening');
  t.after(() => echo.close());
  return { f, rootPem: root.cert, log, a, b, otlp };
}

test('gateway: HTTPS by SNI with two certificates, path routing over HBONE, redirect, h2, gRPC, passthrough, TCP, telemetry', async (t) => {
  const w = await setup(t);
  const { rootPem } = w;

  await t.test(
    'SNI a gets the a certificate, SNI b the wildcard one; paths pick the backend',
    async () => {
      const a1 = await httpsRequest(HTTPS, 'a.example.com', rootPem, { path: '/v1/x' });
      assert.equal(a1.san, 'DNS:a.example.com');
      assert.deepEqual([a1.status, a1.body], [200, 'a GET /v1/x']);
      const a2 = await httpsRequest(HTTPS, 'a.example.com', rootPem, { path: '/v2/y' });
      assert.equal(a2.san, 'DNS:a.example.com');
      assert.deepEqual([a2.status, a2.body], [200, 'b GET /v2/y']);
      const b = await httpsRequest(HTTPS, 'b.example.com', rootPem, { path: '/any' });
      assert.equal(b.san, 'DNS:*.example.com');
      assert.deepEqual([b.status, b.body], [200, 'b GET /any']);
      // The backends' ztunnels saw the gateway's own identity; the app saw https.
      assert.ok(w.a.peers.includes(GW_ID), `peers of a: ${w.a.peers.join(',')}`);
      assert.ok(w.b.peers.includes(GW_ID));
      assert.equal(w.a.seen.at(-1)!.headers['x-forwarded-proto'], 'https');
      // At the edge the client's address is appended to x-forwarded-for (the a chain only).
      assert.equal(w.a.seen.at(-1)!.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(w.b.seen.at(-1)!.headers['x-forwarded-for'], undefined);
      await httpsRequest(HTTPS, 'a.example.com', rootPem, {
        path: '/v1/xff',
        headers: { 'x-forwarded-for': '203.0.113.7' },
      });
      assert.equal(w.a.seen.at(-1)!.headers['x-forwarded-for'], '203.0.113.7,127.0.0.1');
      // A name only the wildcard covers, without a virtual host: the wildcard cert, then 404.
      const c = await httpsRequest(HTTPS, 'c.example.com', rootPem, { path: '/' });
      assert.equal(c.san, 'DNS:*.example.com');
      assert.equal(c.status, 404);
    },
  );

  await t.test(
    'one chain with two certificates of one key type: each SNI gets the certificate naming it',
    async () => {
      const a = await httpsRequest(BOTH, 'a.example.com', rootPem, { path: '/v1/both' });
      assert.equal(a.san, 'DNS:a.example.com');
      assert.deepEqual([a.status, a.body], [200, 'a GET /v1/both']);
      const b = await httpsRequest(BOTH, 'b.example.com', rootPem, { path: '/any' });
      assert.equal(b.san, 'DNS:*.example.com');
      assert.deepEqual([b.status, b.body], [200, 'b GET /any']);
      // No SNI, or one no certificate names: the first certificate.
      const none = await httpsRequest(BOTH, undefined, rootPem, { host: 'a.example.com' });
      assert.equal(none.san, 'DNS:a.example.com');
    },
  );

  await t.test('no SNI, or a name no chain serves: the handshake is refused', async () => {
    await assert.rejects(httpsRequest(HTTPS, undefined, rootPem, { host: 'a.example.com' }));
    await assert.rejects(httpsRequest(HTTPS, 'other.test', rootPem));
  });

  await t.test('the HTTP listener redirects to https with 301', async () => {
    const res = await request(HTTP, { path: '/page?q=1', headers: { host: 'a.example.com' } });
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, 'https://a.example.com/page?q=1');
  });

  await t.test('h2 negotiated by ALPN reaches an HTTP/1.1 backend', async () => {
    const session = http2.connect(`https://127.0.0.1:${HTTPS}`, {
      servername: 'a.example.com',
      ca: rootPem,
      checkServerIdentity: (_h, cert) => tls.checkServerIdentity('a.example.com', cert),
    });
    t.after(() => session.close());
    await once(session, 'connect');
    assert.equal(session.alpnProtocol, 'h2');
    const req = session.request({ ':path': '/v1/h2', ':authority': 'a.example.com' });
    let body = '';
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    await once(req, 'end');
    assert.deepEqual([status, body], [200, 'a GET /v1/h2']);
    // The same connection (SNI a.example.com) asked for a name the route configuration marks
    // misdirected: 421, so the client retries on a connection of its own.
    const other = session.request({ ':path': '/v1/h2', ':authority': 'other.example.com' });
    const [headers] = (await once(other, 'response')) as [http2.IncomingHttpHeaders];
    other.resume();
    await once(other, 'end');
    assert.equal(headers[':status'], 421);
  });

  await t.test('a gRPC call over TLS through a route to an HTTP/2 backend', async () => {
    const Client = grpc.makeGenericClientConstructor(ECHO, 'Echo');
    const client = new Client(
      `127.0.0.1:${HTTPS}`,
      grpc.credentials.createSsl(Buffer.from(rootPem)),
      {
        'grpc.ssl_target_name_override': 'a.example.com',
        'grpc.default_authority': 'a.example.com',
      },
    ) as unknown as {
      say(req: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void): void;
      close(): void;
    };
    t.after(() => client.close());
    const res = await new Promise<string>((resolve, reject) =>
      client.say(Buffer.from('hello'), (err, r) => (err ? reject(err) : resolve(r!.toString()))),
    );
    assert.equal(res, 'echo hello');
  });

  await t.test(
    'TLS passthrough by SNI: the client sees the app certificate, bytes pass untouched',
    async () => {
      const r = await tlsExchange(PASS, 'pass.example.com', rootPem, 'ping');
      assert.equal(r.san, 'DNS:pass.example.com');
      assert.equal(r.reply, 'tls app got ping for pass.example.com');
      await assert.rejects(tlsExchange(PASS, 'nope.example.com', rootPem, 'ping'));
    },
  );

  await t.test(
    'TLS terminated by SNI on the passthrough port: the gateway certificate, plain bytes to the backend',
    async () => {
      const r = await tlsExchange(PASS, 'term.example.com', rootPem, 'hello');
      assert.equal(r.san, 'DNS:*.example.com');
      assert.equal(r.alpn, false);
      assert.equal(r.reply, 'echo:hello');
    },
  );

  await t.test(
    'TLS passthrough to a cluster that is not served: accepted, then reset (not refused)',
    async () => {
      await assert.rejects(
        tlsExchange(PASS, 'invalid.example.com', rootPem, 'ping'),
        (e: NodeJS.ErrnoException) => {
          assert.equal(e.code, 'ECONNRESET', String(e));
          return true;
        },
      );
      const line = await eventually('the access log names the unserved cluster', () =>
        w.log.find((l) => l.includes(UNSERVED)),
      );
      assert.equal((JSON.parse(line) as Record<string, unknown>)['response_flags'], 'NC');
    },
  );

  await t.test('the TCP listener proxies to a non-mesh endpoint over plain TCP', async () => {
    const s = net.connect(TCP, '127.0.0.1');
    s.setEncoding('utf8');
    s.write('hi');
    const [d] = (await once(s, 'data')) as [string];
    s.destroy();
    assert.equal(d, 'echo:hi');
  });

  await t.test(
    'metrics say reporter="source" with the gateway as source; access log; node id',
    async () => {
      const text = await w.f.waypoint.metricsText();
      const ok = metricSum(text, 'istio_requests_total', {
        reporter: 'source',
        source_workload: 'gw',
        source_workload_namespace: 'istio-ingress',
        source_principal: GW_ID,
        destination_service: 'a.default.svc.cluster.local',
        response_code: '200',
      });
      assert.ok(ok >= 2, `requests to a with reporter=source: ${ok}\n${text}`);
      assert.equal(metricSum(text, 'istio_requests_total', { reporter: 'waypoint' }), 0);
      assert.ok(
        metricSum(text, 'istio_tcp_connections_opened_total', { reporter: 'source' }) >= 2,
        'TCP (passthrough and tcp) connections counted',
      );
      const lines = w.log.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(
        lines.some((l) => l['authority'] === 'a.example.com' && l['path'] === '/v1/x'),
        w.log.join('\n'),
      );
      const dump = JSON.parse((await w.f.admin('/config_dump')).body) as {
        bootstrap: { node: string; role: string; listeners: Record<string, { port?: number }> };
        secrets: { name: string; tlsCertificate: { privateKey: { inlineString: string } } }[];
      };
      assert.match(
        dump.bootstrap.node,
        /^router~127\.0\.0\.1~waypoint\.istio-ingress~istio-ingress\.svc\.cluster\.local$/,
      );
      assert.equal(dump.bootstrap.listeners[`0.0.0.0_${HTTPS}`]!.port, HTTPS);
      assert.deepEqual(
        dump.secrets.map((s) => [s.name, s.tlsCertificate.privateKey.inlineString]).sort(),
        [
          [SECRET_A, '[redacted]'],
          [SECRET_B, '[redacted]'],
        ],
      );
    },
  );

  await t.test('a request without traceparent starts a trace at the gateway', async () => {
    const r = await httpsRequest(HTTPS, 'a.example.com', rootPem, { path: '/v1/traced' });
    assert.equal(r.status, 200);
    const tp = String(w.a.seen.find((s) => s.url === '/v1/traced')!.headers['traceparent']);
    const [, traceId, spanId] = tp.split('-');
    const span = await eventually(
      `span ${spanId} exported`,
      () => w.otlp.spans.find((s) => s.spanId === spanId),
      { timeoutMs: 10_000, detail: () => `got ${w.otlp.spans.length} spans` },
    );
    assert.equal(span.traceId, traceId);
    assert.equal(span.parentSpanId, '', 'a root span: the trace starts at the gateway');
    assert.equal(span.kind, 2, 'SERVER');
    assert.equal(span.service, 'gw.istio-ingress');
    assert.equal(span.attributes['upstream_cluster'], A);
    assert.equal(span.attributes['http.status_code'], '200');
  });
});
