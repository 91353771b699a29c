// Interoperability with a bare standard HTTP/2 peer (node:http2 without any HBONE code), as Istio's
// ztunnel speaks standard HTTP/2: our client against a plain CONNECT server, and a plain client
// against our server, each with node's default settings (16 KiB frames, 64 KiB windows) and with
// HBONE's (1 MiB frames, 4 MiB stream and 16 MiB connection windows). Tens of MB move both ways with
// SHA-256 checks, and a paused reader on either end must stall the writer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { mtlsClientOptions, mtlsServerOptions } from '@trellis/pki';
import { CONNECTION_WINDOW_BYTES, MAX_FRAME_BYTES, STREAM_WINDOW_BYTES } from './settings.js';
import {
  digest,
  flood,
  IN_FLIGHT_BOUND,
  makePki,
  readText,
  sha256,
  spiffe,
  startApp,
  startClient,
  startServer,
  writeAll,
  type Pki,
} from './test-support/hbone-endpoints.js';

const SERVER = spiffe('server');
const CLIENT = spiffe('client');
const MB = 1024 * 1024;
const PROFILES = {
  'node defaults': { settings: {}, connectionWindow: undefined },
  'HBONE settings': {
    settings: { initialWindowSize: STREAM_WINDOW_BYTES, maxFrameSize: MAX_FRAME_BYTES },
    connectionWindow: CONNECTION_WINDOW_BYTES,
  },
} as const;
type Profile = (typeof PROFILES)[keyof typeof PROFILES];

/** Sends `up` from `a` and `down` from `b` at once; checks both arrive intact. */
async function exchange(a: Duplex, b: Duplex, up: Buffer, down: Buffer): Promise<void> {
  const [atB, atA] = await Promise.all([digest(b), digest(a), writeAll(a, up), writeAll(b, down)]);
  assert.deepEqual(atB, { sha256: sha256(up), bytes: up.length });
  assert.deepEqual(atA, { sha256: sha256(down), bytes: down.length });
}

/** Fills `writer` towards a paused `reader`: the writer must stall within the bound, then all arrives. */
async function pausedReader(writer: Duplex, reader: Duplex): Promise<void> {
  reader.pause();
  const data = randomBytes(3 * IN_FLIGHT_BOUND);
  const writing = flood(writer, data.length, data);
  await writing.stalled();
  assert.ok(
    writing.produced() < IN_FLIGHT_BOUND,
    `${writing.produced()} bytes went out to a paused reader, bound ${IN_FLIGHT_BOUND}`,
  );
  const arrived = digest(reader);
  reader.resume();
  await writing.done;
  assert.deepEqual(await arrived, { sha256: sha256(data), bytes: data.length });
}

/** A node:http2 CONNECT server with mutual TLS; each 200 stream is handed to `onTunnel`. */
async function nodeServer(
  t: TestContext,
  pki: Pki,
  profile: Profile,
  onTunnel: (stream: http2.ServerHttp2Stream) => void,
) {
  const credentials = await pki.workload(SERVER);
  const requests: http2.IncomingHttpHeaders[] = [];
  const server = http2.createSecureServer({
    ...mtlsServerOptions({ ...credentials, trustBundle: pki.trustBundle }),
    ALPNProtocols: ['h2'],
    settings: profile.settings,
  });
  server.on('session', (session) => {
    if (profile.connectionWindow) session.setLocalWindowSize(profile.connectionWindow);
  });
  server.on('stream', (stream, headers) => {
    requests.push(headers);
    stream.on('error', () => undefined);
    stream.respond({ ':status': 200 });
    onTunnel(stream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.close();
    for (const s of sessions) s.destroy();
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => sessions.add(s));
  return { port: (server.address() as net.AddressInfo).port, requests };
}

for (const [name, profile] of Object.entries(PROFILES)) {
  describe(`interop: our client, node:http2 CONNECT server (${name})`, () => {
    async function setup(t: TestContext) {
      const pki = await makePki();
      const tunnels: http2.ServerHttp2Stream[] = [];
      const waiters: Array<(s: http2.ServerHttp2Stream) => void> = [];
      const server = await nodeServer(t, pki, profile, (stream) => {
        const waiter = waiters.shift();
        if (waiter) waiter(stream);
        else tunnels.push(stream);
      });
      const client = startClient(t);
      const tunnel = await client.connect({
        source: await pki.workload(CLIENT),
        destinationIdentity: SERVER,
        destinationIp: '127.0.0.1',
        hbonePort: server.port,
        target: '10.1.2.3:8080',
        headers: {
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          baggage: 'a=1',
        },
      });
      const remote =
        tunnels.shift() ?? (await new Promise<http2.ServerHttp2Stream>((r) => waiters.push(r)));
      return { tunnel, remote, requests: server.requests };
    }

    it('sends a CONNECT the server understands, then 24 MB each way arrive intact', async (t) => {
      const { tunnel, remote, requests } = await setup(t);
      assert.equal(requests[0]?.[':method'], 'CONNECT');
      assert.equal(requests[0]?.[':authority'], '10.1.2.3:8080');
      assert.equal(requests[0]?.['baggage'], 'a=1');
      await exchange(tunnel, remote, randomBytes(24 * MB), randomBytes(24 * MB));
    });

    it('a paused node:http2 reader stalls our writer, then everything arrives', async (t) => {
      const { tunnel, remote } = await setup(t);
      await pausedReader(tunnel, remote);
      remote.end();
      await readText(tunnel);
    });

    it('our paused tunnel stalls the node:http2 writer, then everything arrives', async (t) => {
      const { tunnel, remote } = await setup(t);
      await pausedReader(remote, tunnel);
      tunnel.end();
      await readText(remote);
    });

    it('half-close travels both ways', async (t) => {
      const { tunnel, remote } = await setup(t);
      const atServer = readText(remote);
      tunnel.end('client done');
      assert.equal(await atServer, 'client done');
      remote.end('server reply after the client FIN');
      assert.equal(await readText(tunnel), 'server reply after the client FIN');
    });
  });

  describe(`interop: node:http2 client, our server (${name})`, () => {
    async function setup(t: TestContext) {
      const pki = await makePki();
      const hbone = await startServer(t, pki, SERVER);
      const app = await startApp(t);
      const source = await pki.workload(CLIENT);
      const session = http2.connect(`https://127.0.0.1:${hbone.port}`, {
        ...mtlsClientOptions({ ...source, expectedIdentity: SERVER }),
        ALPNProtocols: ['h2'],
        settings: profile.settings,
      });
      session.on('error', () => undefined);
      t.after(() => session.destroy());
      if (profile.connectionWindow) {
        const window = profile.connectionWindow;
        session.once('connect', () => session.setLocalWindowSize(window));
      }
      const stream = session.request(
        {
          ':method': 'CONNECT',
          ':authority': `127.0.0.1:${app.port}`,
          forwarded: 'for="10.0.0.9:1234"',
        },
        { endStream: false },
      );
      stream.on('error', () => undefined);
      const [response] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
      assert.equal(response[':status'], 200);
      return { stream, socket: await app.socket(1), hbone };
    }

    it('answers 200, passes the headers, then 24 MB each way arrive intact', async (t) => {
      const { stream, socket, hbone } = await setup(t);
      assert.equal(hbone.requests[0]?.headers.forwarded, 'for="10.0.0.9:1234"');
      await exchange(stream, socket, randomBytes(24 * MB), randomBytes(24 * MB));
    });

    it('a paused app behind our server stalls the node:http2 writer, then everything arrives', async (t) => {
      const { stream, socket } = await setup(t);
      await pausedReader(stream, socket);
      socket.end();
      await readText(stream);
    });

    it('a paused node:http2 reader stalls the app writer through our server, then everything arrives', async (t) => {
      const { stream, socket } = await setup(t);
      await pausedReader(socket, stream);
      stream.end();
      await readText(socket);
    });

    // Not with stream.close(code): node:http2 sends END_STREAM before that RST_STREAM, and the app
    // would see a FIN first. destroy(err) sends the RST_STREAM alone.
    it('a RST_STREAM from the node:http2 client resets the app connection', async (t) => {
      const { stream, socket } = await setup(t);
      const appError = new Promise<Error & { code?: string }>((r) => socket.once('error', r));
      stream.write('x');
      await once(socket, 'data');
      stream.destroy(new Error('the client gives up'));
      assert.equal((await appError).code, 'ECONNRESET');
    });
  });
}
