// What the HBONE server answers and whom it serves: statuses, headers, peer identities, and the
// certificate chosen by destination IP. Real TLS 1.3 + HTTP/2 on 127.0.0.1 and ::1.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import tls from 'node:tls';
import { mtlsClientOptions } from '@trellis/pki';
import { eventually } from '@trellis/core/test-support';
import type { ClientCredentials } from './connection.js';
import { HboneConnectError, HboneStatusError } from './errors.js';
import { formatForwardedFor } from './forwarded.pure.js';
import { HboneServer } from './server.js';
import { CONNECTION_WINDOW_BYTES, MAX_FRAME_BYTES, STREAM_WINDOW_BYTES } from './settings.js';
import {
  makePki,
  readText,
  spiffe,
  startApp,
  startClient,
  startServer,
  type Pki,
} from './test-support/hbone-endpoints.js';

const SERVER = spiffe('server');
const CLIENT = spiffe('client');

/** Sends one raw HTTP/2 request over mTLS and returns the response status. */
async function rawRequest(
  t: TestContext,
  port: number,
  source: ClientCredentials,
  headers: http2.OutgoingHttpHeaders,
): Promise<number> {
  const session = http2.connect(`https://127.0.0.1:${port}`, {
    ...mtlsClientOptions({ ...source, expectedIdentity: SERVER }),
    ALPNProtocols: ['h2'],
  });
  t.after(() => session.destroy());
  const stream = session.request(headers, { endStream: false });
  stream.on('error', () => undefined);
  const response = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('close', () =>
      reject(new Error(`closed without a response (rst ${stream.rstCode})`)),
    );
  });
  return Number(response[':status']);
}

async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; status?: number; cause?: unknown }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string; status?: number; cause?: unknown };
  }
  assert.fail('expected a rejection');
}

describe('HBONE server', () => {
  it('answers 200 and hands the owner the peer, target, source, destination and forwarded/traceparent/baggage', async (t) => {
    const pki = await makePki();
    const hbone = await startServer(t, pki, SERVER);
    const app = await startApp(t, (s) => s.end('hello'));
    const client = startClient(t);
    const headers = {
      forwarded: formatForwardedFor({ address: '10.1.2.3', port: 40000 }),
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      baggage: 'k8s.namespace.name=default,k8s.pod.name=client-0',
    };
    const tunnel = await client.connect({
      source: await pki.workload(CLIENT),
      destinationIdentity: SERVER,
      destinationIp: '127.0.0.1',
      hbonePort: hbone.port,
      target: `127.0.0.1:${app.port}`,
      headers,
    });
    tunnel.end();
    assert.equal(await readText(tunnel), 'hello');
    const [request] = hbone.requests;
    assert.ok(request);
    assert.equal(request.peer.uri, CLIENT);
    assert.deepEqual(request.target, { address: '127.0.0.1', port: app.port, family: 4 });
    assert.deepEqual(request.headers, headers);
    assert.equal(request.destination.address, '127.0.0.1');
    assert.equal(request.destination.port, hbone.port);
    assert.equal(request.source.address, '127.0.0.1');
  });

  it('answers 401 when the owner denies, without dialing', async (t) => {
    const pki = await makePki();
    let dialed = 0;
    const hbone = await startServer(t, pki, SERVER, {
      onConnect: () => ({ allow: false, reason: 'no ALLOW policy matched' }),
      dial: () => {
        dialed++;
        return Promise.reject(new Error('must not dial'));
      },
    });
    const client = startClient(t);
    const err = await rejection(
      client.connect({
        source: await pki.workload(CLIENT),
        destinationIdentity: SERVER,
        destinationIp: '127.0.0.1',
        hbonePort: hbone.port,
        target: '127.0.0.1:9',
      }),
    );
    assert.ok(err instanceof HboneStatusError);
    assert.equal(err.status, 401);
    assert.match(err.message, /answered 401 \(denied by policy\)/);
    assert.equal(dialed, 0);
  });

  it(
    'tells the owner a tunnel is over when the client resets it while the upstream is dialled',
    { timeout: 30_000 },
    async (t) => {
      const pki = await makePki();
      const app = await startApp(t, () => undefined);
      let dialStarted!: () => void;
      const dialing = new Promise<void>((resolve) => (dialStarted = resolve));
      let finishDial!: () => void;
      const dialMayFinish = new Promise<void>((resolve) => (finishDial = resolve));
      let upstream: net.Socket | undefined;
      const hbone = await startServer(t, pki, SERVER, {
        dial: async (target) => {
          dialStarted();
          await dialMayFinish;
          upstream = net.connect({ host: target.address, port: target.port });
          await new Promise((resolve) => upstream?.once('connect', resolve));
          return upstream;
        },
      });
      const session = http2.connect(`https://127.0.0.1:${hbone.port}`, {
        ...mtlsClientOptions({ ...(await pki.workload(CLIENT)), expectedIdentity: SERVER }),
        ALPNProtocols: ['h2'],
      });
      t.after(() => session.destroy());
      const stream = session.request(
        { ':method': 'CONNECT', ':authority': `127.0.0.1:${app.port}` },
        { endStream: false },
      );
      stream.on('error', () => undefined);
      await dialing;
      stream.close(http2.constants.NGHTTP2_CANCEL);
      await new Promise((resolve) => stream.once('close', resolve));
      // Let the server read the RST_STREAM before the dial completes.
      await new Promise((resolve) => session.ping(resolve));
      finishDial();
      await eventually('the tunnel to be recorded as closed', () => hbone.closed.length > 0);
      const [closed] = hbone.closed;
      assert.ok(closed);
      assert.equal(closed.request.target.port, app.port);
      assert.deepEqual([closed.stats.bytesSent, closed.stats.bytesReceived], [0, 0]);
      assert.match(closed.stats.error?.message ?? '', /before the tunnel opened/);
      if (upstream && !upstream.destroyed)
        await new Promise((resolve) => upstream?.once('close', resolve));
      assert.equal(upstream?.destroyed, true, 'the upstream connection is closed');
    },
  );

  it('answers 503 when the upstream refuses the connection', async (t) => {
    const pki = await makePki();
    const hbone = await startServer(t, pki, SERVER);
    const closedPort = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const client = startClient(t);
    const err = await rejection(
      client.connect({
        source: await pki.workload(CLIENT),
        destinationIdentity: SERVER,
        destinationIp: '127.0.0.1',
        hbonePort: hbone.port,
        target: `127.0.0.1:${closedPort}`,
      }),
    );
    assert.ok(err instanceof HboneStatusError);
    assert.equal(err.status, 503);
    assert.equal(hbone.closed.length, 0);
  });

  it('answers 400 to an authority that is not ip:port and to methods other than CONNECT', async (t) => {
    const pki = await makePki();
    const hbone = await startServer(t, pki, SERVER);
    const source = await pki.workload(CLIENT);
    assert.equal(
      await rawRequest(t, hbone.port, source, {
        ':method': 'CONNECT',
        ':authority': 'example.com:80',
      }),
      400,
    );
    assert.equal(
      await rawRequest(t, hbone.port, source, { ':method': 'CONNECT', ':authority': '10.0.0.1:0' }),
      400,
    );
    assert.equal(
      await rawRequest(t, hbone.port, source, {
        ':method': 'GET',
        ':path': '/',
        ':authority': '10.0.0.1:80',
      }),
      400,
    );
    assert.equal(hbone.requests.length, 0);
  });

  it('the client refuses a server whose SPIFFE ID is not the expected one', async (t) => {
    const pki = await makePki();
    const hbone = await startServer(t, pki, spiffe('impostor'));
    const client = startClient(t);
    const err = await rejection(
      client.connect({
        source: await pki.workload(CLIENT),
        destinationIdentity: SERVER,
        destinationIp: '127.0.0.1',
        hbonePort: hbone.port,
        target: '127.0.0.1:9',
      }),
    );
    assert.ok(err instanceof HboneConnectError);
    assert.equal((err.cause as { code?: string }).code, 'ERR_SPIFFE_PEER_REJECTED');
    assert.match(
      err.message,
      /spiffe:\/\/cluster\.local\/ns\/default\/sa\/impostor is not the expected/,
    );
    assert.equal(hbone.requests.length, 0);
    assert.equal(client.stats().connections, 0);
  });

  it('refuses a client whose certificate chains to an untrusted root, before any stream', async (t) => {
    const pki = await makePki();
    const stranger: Pki = await makePki('Stranger Root CA');
    const hbone = await startServer(t, pki, SERVER);
    const client = startClient(t);
    // The client trusts the server's root, but its own certificate comes from another root.
    const own = await stranger.workload(CLIENT);
    const err = await rejection(
      client.connect({
        source: { ...own, trustBundle: pki.trustBundle },
        destinationIdentity: SERVER,
        destinationIp: '127.0.0.1',
        hbonePort: hbone.port,
        target: '127.0.0.1:9',
      }),
    );
    assert.ok(err instanceof HboneConnectError, String(err));
    assert.equal(hbone.requests.length, 0);
    assert.equal(hbone.refused.length, 1);
    assert.equal((hbone.refused[0] as { code?: string }).code, 'ERR_SPIFFE_PEER_REJECTED');
    assert.match(String(hbone.refused[0]?.message), /CERT|trust|issuer|verif/i);
  });

  it('refuses a client from another trust domain under the same root', async (t) => {
    const pki = await makePki();
    const hbone = await startServer(t, pki, SERVER);
    const client = startClient(t);
    const foreign = await pki.workload(spiffe('client', 'other.example'));
    const err = await rejection(
      client.connect({
        source: foreign,
        destinationIdentity: SERVER,
        destinationIp: '127.0.0.1',
        hbonePort: hbone.port,
        target: '127.0.0.1:9',
      }),
    );
    assert.ok(err instanceof HboneConnectError, String(err));
    assert.equal(hbone.requests.length, 0);
    assert.match(
      String(hbone.refused[0]?.message),
      /trust domain "other\.example", expected "cluster\.local"/,
    );
  });

  it('presents the certificate of the destination IP: 127.0.0.1, ::1, or what destinationOf reports', async (t) => {
    const pki = await makePki();
    const byIp = new Map([
      ['127.0.0.1', spiffe('v4-pod')],
      ['::1', spiffe('v6-pod')],
      ['10.9.8.7', spiffe('redirected-pod')],
    ]);
    const certificates = new Map(
      await Promise.all([...byIp].map(async ([ip, id]) => [ip, await pki.workload(id)] as const)),
    );
    const asked: string[] = [];
    const certificateFor = async (ip: string) => {
      asked.push(ip);
      const found = certificates.get(ip);
      if (!found) throw new Error(`no workload owns ${ip}`);
      return found;
    };
    const direct = new HboneServer({ trustBundle: pki.trustBundle, certificateFor });
    const redirected = new HboneServer({
      trustBundle: pki.trustBundle,
      certificateFor,
      destinationOf: () => ({ address: '10.9.8.7', port: 15008 }),
    });
    t.after(() => Promise.all([direct.close({ drainMs: 0 }), redirected.close({ drainMs: 0 })]));
    const v4 = await direct.listen({ host: '127.0.0.1', port: 0 });
    const v6 = await direct.listen({ host: '::1', port: 0 });
    const viaRedirect = await redirected.listen({ host: '127.0.0.1', port: 0 });
    const app = await startApp(t, (s) => s.end());
    const client = startClient(t);
    const source = await pki.workload(CLIENT);
    const seen = async (destinationIp: string, port: number, expected: string) => {
      const tunnel = await client.connect({
        source,
        destinationIdentity: expected,
        destinationIp,
        hbonePort: port,
        target: `127.0.0.1:${app.port}`,
      });
      tunnel.end();
      await readText(tunnel);
      return tunnel.peerIdentity;
    };
    assert.equal(await seen('127.0.0.1', v4.port, spiffe('v4-pod')), spiffe('v4-pod'));
    assert.equal(await seen('::1', v6.port, spiffe('v6-pod')), spiffe('v6-pod'));
    assert.equal(
      await seen('127.0.0.1', viaRedirect.port, spiffe('redirected-pod')),
      spiffe('redirected-pod'),
    );
    assert.deepEqual(asked, ['127.0.0.1', '::1', '10.9.8.7']);
  });

  it('refuses the connection when no certificate is found for the destination', async (t) => {
    const pki = await makePki();
    const server = new HboneServer({
      trustBundle: pki.trustBundle,
      certificateFor: (ip) => Promise.reject(new Error(`no workload owns ${ip}`)),
    });
    const refused: Error[] = [];
    server.on('clientError', (err) => refused.push(err));
    t.after(() => server.close({ drainMs: 0 }));
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const client = startClient(t);
    const err = await rejection(
      client.connect({
        source: await pki.workload(CLIENT),
        destinationIdentity: SERVER,
        destinationIp: '127.0.0.1',
        hbonePort: port,
        target: '127.0.0.1:9',
      }),
    );
    assert.ok(err instanceof HboneConnectError);
    assert.deepEqual(
      refused.map((e) => e.message),
      ['no workload owns 127.0.0.1'],
    );
  });

  it('rejects bad connect options with a message naming the field', async (t) => {
    const pki = await makePki();
    const client = startClient(t);
    const base = {
      source: await pki.workload(CLIENT),
      destinationIdentity: SERVER,
      destinationIp: '127.0.0.1',
      target: '10.0.0.1:80',
    };
    await assert.rejects(
      client.connect({ ...base, target: 'svc.local:80' }),
      /target authority "svc.local:80" is not ip:port/,
    );
    await assert.rejects(
      client.connect({ ...base, destinationIp: 'pod-a' }),
      /destinationIp "pod-a" is not an IP address/,
    );
    await assert.rejects(client.connect({ ...base, hbonePort: 70000 }), /hbonePort 70000/);
    await assert.rejects(
      client.connect({ ...base, destinationIdentity: 'server' }),
      /SPIFFE|spiffe/,
    );
  });

  it('both ends announce HBONE flow control: 4 MiB stream window, 16 MiB connection window, 1 MiB frames', async (t) => {
    const pki = await makePki();
    const hbone = await startServer(t, pki, SERVER);
    const app = await startApp(t, (s) => s.end());
    const client = startClient(t);
    const tunnel = await client.connect({
      source: await pki.workload(CLIENT),
      destinationIdentity: SERVER,
      destinationIp: '127.0.0.1',
      hbonePort: hbone.port,
      target: `127.0.0.1:${app.port}`,
    });
    const session = hbone.requests[0]?.stream.session;
    assert.ok(session);
    // The client's SETTINGS and connection window as the server received them, and the server's own.
    assert.equal(session.remoteSettings.initialWindowSize, STREAM_WINDOW_BYTES);
    assert.equal(session.remoteSettings.maxFrameSize, MAX_FRAME_BYTES);
    assert.equal(session.state.remoteWindowSize, CONNECTION_WINDOW_BYTES);
    assert.equal(session.state.effectiveLocalWindowSize, CONNECTION_WINDOW_BYTES);
    tunnel.end();
    await readText(tunnel);
    await eventually('the tunnel to be recorded as closed', () => hbone.closed.length > 0);
    // localSettings show what the client acknowledged; its ACK came before the end of its stream.
    assert.equal(session.localSettings.initialWindowSize, STREAM_WINDOW_BYTES);
    assert.equal(session.localSettings.maxFrameSize, MAX_FRAME_BYTES);
  });

  it('refuses a TLS client that does not offer ALPN h2', async (t) => {
    const pki = await makePki();
    const hbone = await startServer(t, pki, SERVER);
    const source = await pki.workload(CLIENT);
    const socket = tls.connect({
      host: '127.0.0.1',
      port: hbone.port,
      ...mtlsClientOptions({ ...source, expectedIdentity: SERVER }),
      ALPNProtocols: ['http/1.1'],
    });
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('close', resolve));
    assert.equal(hbone.requests.length, 0);
    assert.match(String(hbone.refused[0]?.message), /ALPN|protocol/i);
  });

  it('connections to one certificate, at once: each keeps its own addresses; a rotated certificate serves the next; no TLS resumption', async (t) => {
    const pki = await makePki();
    let certificate = await pki.workload(SERVER);
    const seen: Array<{ target: number; source: number }> = [];
    const hbone = await startServer(t, pki, SERVER, {
      certificateFor: () => certificate,
      onConnect: (request) => {
        seen.push({ target: request.target.port, source: request.source.port });
        return { allow: false, reason: 'recorded' };
      },
    });
    const source = await pki.workload(CLIENT);
    /** One HBONE connection and a CONNECT to 127.0.0.1:target: the client's port and the status. */
    const connect = async (target: number, expectedIdentity: string) => {
      const session = http2.connect(`https://127.0.0.1:${hbone.port}`, {
        ...mtlsClientOptions({ ...source, expectedIdentity }),
        ALPNProtocols: ['h2'],
      });
      t.after(() => session.destroy());
      const stream = session.request(
        { ':method': 'CONNECT', ':authority': `127.0.0.1:${target}` },
        { endStream: false },
      );
      stream.on('error', () => undefined);
      const response = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        stream.once('response', resolve);
        session.once('error', reject);
      });
      return { port: session.socket.localPort, status: response[':status'] };
    };
    // Handshakes at the same time share one kept TLS server: each CONNECT is told its own client.
    const clients = await Promise.all(
      Array.from({ length: 8 }, (_, i) => connect(10_000 + i, SERVER)),
    );
    assert.deepEqual(
      clients.map((c) => c.status),
      Array.from({ length: 8 }, () => 401),
    );
    assert.deepEqual(
      [...seen].sort((a, b) => a.target - b.target),
      clients.map((c, i) => ({ target: 10_000 + i, source: c.port })),
      'every CONNECT is told the client port of its own connection',
    );
    // Rotation: certificateFor hands out a new certificate (here another identity, to tell them
    // apart); the next connection is presented the new one.
    const ROTATED = spiffe('server-rotated');
    certificate = await pki.workload(ROTATED);
    assert.equal((await connect(10_100, ROTATED)).status, 401);
    // A client offering a session ticket gets a full handshake: its certificate checked again.
    const resumed = async (session?: Buffer) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: hbone.port,
        ...mtlsClientOptions({ ...source, expectedIdentity: ROTATED }),
        ALPNProtocols: ['h2'],
        ...(session ? { session } : {}),
      });
      t.after(() => socket.destroy());
      let ticket: Buffer | undefined;
      socket.on('session', (s: Buffer) => (ticket = s));
      socket.on('error', () => undefined);
      socket.resume(); // tickets come after the handshake
      await new Promise((resolve) => socket.once('secureConnect', resolve));
      const reused = socket.isSessionReused();
      if (!session) await eventually('a session ticket', () => ticket !== undefined);
      socket.destroy();
      return { reused, ticket: ticket! };
    };
    const first = await resumed();
    assert.equal((await resumed(first.ticket)).reused, false, 'a full handshake, not a resumption');
  });

  it('the client gives up on a server that never completes the handshake (connectTimeoutMs)', async (t) => {
    const pki = await makePki();
    const silent = net.createServer((s) => s.resume().on('error', () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const client = startClient(t, { connectTimeoutMs: 100 });
    const err = await rejection(
      client.connect({
        source: await pki.workload(CLIENT),
        destinationIdentity: SERVER,
        destinationIp: '127.0.0.1',
        hbonePort: (silent.address() as net.AddressInfo).port,
        target: '127.0.0.1:9',
      }),
    );
    assert.ok(err instanceof HboneConnectError);
    assert.match(err.message, /no TCP connection and TLS handshake within 100 ms/);
  });
});
