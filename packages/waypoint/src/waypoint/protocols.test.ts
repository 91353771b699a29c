// Inner protocols through the waypoint: h2c clients (prior knowledge) to HTTP/1.1 and HTTP/2
// backends, gRPC with @grpc/grpc-js on both ends (unary, server streaming, status codes, retries
// on UNAVAILABLE, deadlines), and TCP passthrough for a non-HTTP port.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { h2Backend, httpBackend, request, testPort } from '../test-support/apps.js';
import { ECHO } from '../test-support/grpc-echo.js';
import {
  cluster,
  endpoints,
  forward,
  listener,
  prefix,
  routeConfig,
} from '../test-support/envoy-builders.js';
import { spiffe, startDestination, startFixture } from '../test-support/fixture.js';
import { Http2ProtocolOptionsSchema } from '@trellis/api/gen/envoy/config/core/v3/protocol_pb.js';

const HBONE = testPort(61);

function h2Request(
  port: number,
  path: string,
  body = '',
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on('error', reject);
    const req = client.request({
      ':method': body ? 'POST' : 'GET',
      ':path': path,
      ':authority': 'svc.default.svc.cluster.local',
    });
    let text = '';
    let headers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (headers = h));
    req.setEncoding('utf8');
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      client.close();
      resolve({ status: Number(headers[':status']), headers, body: text });
    });
    req.on('error', reject);
    req.end(body || undefined);
  });
}

test('h2c clients reach HTTP/1.1 and HTTP/2 backends; HTTP/1.1 clients reach an HTTP/2 backend', async (t) => {
  const H1 = 'outbound|80||h1.default.svc.cluster.local';
  const H2 = 'outbound|80||h2.default.svc.cluster.local';
  const bport = testPort(62);
  const f = await startFixture({
    hbonePort: HBONE,
    envoy: {
      listeners: [listener([{ vip: '10.96.4.1', port: 80, routes: 'r' }])],
      routes: [
        routeConfig('r', [
          {
            name: 'r',
            domains: ['*'],
            routes: [forward('h2', prefix('/h2'), H2), forward('h1', prefix('/'), H1)],
          },
        ]),
      ],
      clusters: [
        cluster(H1),
        cluster(H2, { http2ProtocolOptions: create(Http2ProtocolOptionsSchema) }),
      ],
      endpoints: [
        endpoints(H1, [{ ip: '127.0.0.61', port: bport, identity: spiffe('default', 'h1') }]),
        endpoints(H2, [{ ip: '127.0.0.62', port: bport, identity: spiffe('default', 'h2') }]),
      ],
    },
  });
  t.after(() => f.close());
  await httpBackend(t, f.mesh, { ip: '127.0.0.61', port: bport, hbonePort: HBONE, name: 'h1' });
  await h2Backend(t, f.mesh, { ip: '127.0.0.62', port: bport, hbonePort: HBONE, name: 'h2' });
  const port = await f.sourcePort('10.96.4.1', 80);
  const a = await h2Request(port, '/hello');
  assert.deepEqual([a.status, a.body], [200, 'h1 GET /hello']);
  const b = await h2Request(port, '/h2/x', 'abc');
  assert.deepEqual([b.status, b.body, b.headers['x-proto']], [200, 'h2 POST /h2/x 3', 'h2']);
  const c = await request(port, { path: '/h2/y', method: 'PUT', body: 'hello' });
  assert.deepEqual([c.status, c.body], [200, 'h2 PUT /h2/y 5']);
});

test('gRPC through the waypoint: unary, server streaming, status codes with messages, retry on UNAVAILABLE, deadline', async (t) => {
  const G = 'outbound|9090||echo.default.svc.cluster.local';
  const bport = testPort(63);
  const f = await startFixture({
    hbonePort: HBONE,
    envoy: {
      listeners: [listener([{ vip: '10.96.4.2', port: 9090, routes: 'g' }])],
      routes: [
        routeConfig('g', [
          {
            name: 'g',
            domains: ['*'],
            routes: [
              forward('grpc', prefix('/echo.Echo/'), G, {
                retryPolicy: {
                  retryOn: 'unavailable',
                  numRetries: 2,
                  retryBackOff: { baseInterval: { nanos: 1_000_000 } },
                },
              }),
            ],
          },
        ]),
      ],
      clusters: [cluster(G, { http2ProtocolOptions: create(Http2ProtocolOptionsSchema) })],
      endpoints: [
        endpoints(G, [{ ip: '127.0.0.63', port: bport, identity: spiffe('default', 'echo') }]),
      ],
    },
  });
  t.after(() => f.close());
  let unavailable = 0;
  const server = new GrpcServer();
  server.addService(ECHO, {
    say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const text = call.request.toString();
      if (text === 'fail') return cb({ code: grpc.status.PERMISSION_DENIED, details: 'not you' });
      if (text === 'flaky' && unavailable++ < 2)
        return cb({ code: grpc.status.UNAVAILABLE, details: 'try again' });
      if (text === 'slow') return void setTimeout(() => cb(null, Buffer.from('late')), 2000);
      cb(null, Buffer.from(`echo ${text} from ${call.getHost()}`));
    },
    count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const n = Number(call.request.toString());
      for (let i = 1; i <= n; i++) call.write(Buffer.from(String(i)));
      call.end();
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.63:${bport}`, ServerCredentials.createInsecure(), (e) =>
      e ? reject(e) : resolve(),
    ),
  );
  t.after(() => server.forceShutdown());
  const dest = await startDestination(f.mesh, '127.0.0.63', HBONE, spiffe('default', 'echo'));
  t.after(() => dest.server.close({ drainMs: 0 }));
  const port = await f.sourcePort('10.96.4.2', 9090);
  const Client = grpc.makeGenericClientConstructor(ECHO, 'Echo');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': 'echo.default.svc.cluster.local:9090',
  }) as unknown as {
    say(
      req: Buffer,
      md: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (e: grpc.ServiceError | null, r?: Buffer) => void,
    ): void;
    count(req: Buffer): grpc.ClientReadableStream<Buffer>;
    close(): void;
  };
  t.after(() => client.close());
  const say = (text: string, deadlineMs = 5000) =>
    new Promise<{ err: grpc.ServiceError | null; res?: string }>((resolve) =>
      client.say(
        Buffer.from(text),
        new grpc.Metadata(),
        { deadline: Date.now() + deadlineMs },
        (err, res) => resolve({ err, res: res?.toString() }),
      ),
    );
  const ok = await say('hi');
  assert.equal(ok.err, null);
  assert.equal(ok.res, 'echo hi from echo.default.svc.cluster.local:9090');
  const denied = await say('fail');
  assert.equal(denied.err?.code, grpc.status.PERMISSION_DENIED);
  assert.equal(denied.err?.details, 'not you');
  const flaky = await say('flaky');
  assert.equal(flaky.err, null, 'UNAVAILABLE twice, then retried to success');
  assert.equal(unavailable, 3);
  const late = await say('slow', 300);
  assert.equal(late.err?.code, grpc.status.DEADLINE_EXCEEDED);
  const got: string[] = [];
  const stream = client.count(Buffer.from('5'));
  stream.on('data', (d: Buffer) => got.push(d.toString()));
  await once(stream, 'end');
  assert.deepEqual(got, ['1', '2', '3', '4', '5']);
});

test('TCP passthrough: a tcp_proxy chain carries raw bytes both ways, half-close included', async (t) => {
  const T = 'outbound|5432||db.default.svc.cluster.local';
  const bport = testPort(64);
  const f = await startFixture({
    hbonePort: HBONE,
    envoy: {
      listeners: [listener([{ vip: '10.96.4.3', port: 5432, tcpCluster: T }])],
      clusters: [cluster(T)],
      endpoints: [
        endpoints(T, [{ ip: '127.0.0.64', port: bport, identity: spiffe('default', 'db') }]),
      ],
    },
  });
  t.after(() => f.close());
  const echo = net.createServer({ allowHalfOpen: true }, (s) => {
    const parts: Buffer[] = [];
    s.on('data', (d) => parts.push(d));
    s.on('end', () => s.end(Buffer.concat([Buffer.from('got:'), ...parts])));
  });
  echo.listen(bport, '127.0.0.64');
  await once(echo, 'listening');
  t.after(() => echo.close());
  const dest = await startDestination(f.mesh, '127.0.0.64', HBONE, spiffe('default', 'db'));
  t.after(() => dest.server.close({ drainMs: 0 }));
  const port = await f.sourcePort('10.96.4.3', 5432);
  const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const parts: Buffer[] = [];
  s.on('data', (d) => parts.push(d));
  s.write('\x00\x01binary');
  s.end();
  await once(s, 'end');
  assert.equal(Buffer.concat(parts).toString('latin1'), 'got:\x00\x01binary');
  assert.deepEqual(dest.peers, [spiffe('default', 'waypoint')]);
});
