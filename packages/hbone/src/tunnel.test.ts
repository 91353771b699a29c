// The data path through a real tunnel: client -> TLS 1.3 + HTTP/2 on 127.0.0.1 -> server -> TCP app.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { constants } from 'node:http2';
import { describe, it, type TestContext } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { TunnelResetError } from './errors.js';
import {
  digest,
  errorOf,
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
  type App,
} from './test-support/hbone-endpoints.js';
import type { TunnelStream } from './tunnel-stream.js';

const SERVER = spiffe('server');
const CLIENT = spiffe('client');

/** A server, a client and an app; `open()` tunnels to the app and returns both ends. */
async function setup(t: TestContext, onSocket?: Parameters<typeof startApp>[1]) {
  const pki = await makePki();
  const hbone = await startServer(t, pki, SERVER);
  const client = startClient(t);
  const source = await pki.workload(CLIENT);
  const app: App = await startApp(t, onSocket);
  let opened = 0;
  return {
    hbone,
    client,
    app,
    async open(): Promise<{ tunnel: TunnelStream; socket: Awaited<ReturnType<App['socket']>> }> {
      const tunnel = await client.connect({
        source,
        destinationIdentity: SERVER,
        destinationIp: '127.0.0.1',
        hbonePort: hbone.port,
        target: `127.0.0.1:${app.port}`,
      });
      return { tunnel, socket: await app.socket(++opened) };
    },
  };
}

describe('HBONE tunnel data path', () => {
  it('carries 20 MB each way intact (SHA-256) and counts the bytes on both ends', async (t) => {
    const up = randomBytes(20 * 1024 * 1024);
    const down = randomBytes(20 * 1024 * 1024);
    const env = await setup(t);
    const { tunnel, socket } = await env.open();
    const [atApp, atClient] = await Promise.all([
      digest(socket),
      digest(tunnel),
      writeAll(tunnel, up),
      writeAll(socket, down),
    ]);
    assert.deepEqual(atApp, { sha256: sha256(up), bytes: up.length });
    assert.deepEqual(atClient, { sha256: sha256(down), bytes: down.length });
    assert.equal(tunnel.bytesSent, up.length);
    assert.equal(tunnel.bytesReceived, down.length);
    assert.equal(tunnel.peerIdentity, SERVER);
    await eventually('the tunnel to be recorded as closed', () => env.hbone.closed.length > 0);
    const [{ stats }] = env.hbone.closed as [(typeof env.hbone.closed)[0]];
    assert.deepEqual(stats, { bytesSent: down.length, bytesReceived: up.length });
  });

  it('client half-close: the app sees end of input and its reply still reaches the client', async (t) => {
    const env = await setup(t);
    const { tunnel, socket } = await env.open();
    const appRead = readText(socket);
    tunnel.end('request, then FIN');
    assert.equal(await appRead, 'request, then FIN');
    socket.end('reply sent after the client FIN');
    assert.equal(await readText(tunnel), 'reply sent after the client FIN');
  });

  it('app half-close: the client sees end of input and can still send', async (t) => {
    const env = await setup(t);
    const { tunnel, socket } = await env.open();
    const clientRead = readText(tunnel);
    socket.end('greeting, then FIN');
    assert.equal(await clientRead, 'greeting, then FIN');
    const appRead = readText(socket);
    tunnel.end('sent after the app FIN');
    assert.equal(await appRead, 'sent after the app FIN');
  });

  it('client reset: destroying the tunnel resets the app connection (TCP RST)', async (t) => {
    const env = await setup(t);
    const { tunnel, socket } = await env.open();
    const appError = errorOf(socket);
    tunnel.write('x');
    await once(socket, 'data');
    tunnel.destroy();
    assert.equal((await appError).code, 'ECONNRESET');
  });

  it('app reset: a TCP RST from the app resets the tunnel (RST_STREAM)', async (t) => {
    const env = await setup(t);
    const { tunnel, socket } = await env.open();
    const clientError = errorOf(tunnel);
    socket.resetAndDestroy();
    const err = await clientError;
    assert.ok(err instanceof TunnelResetError, String(err));
    assert.equal(err.code, 'ECONNRESET');
    assert.notEqual(err.rstCode, constants.NGHTTP2_NO_ERROR);
    assert.match(err.message, /RST_STREAM/);
  });

  it('back-pressure: a paused app stalls the client writer after a bounded amount, then all arrives', async (t) => {
    const env = await setup(t);
    const { tunnel, socket } = await env.open();
    socket.pause();
    const limit = 3 * IN_FLIGHT_BOUND;
    const writer = flood(tunnel, limit);
    await writer.stalled();
    assert.ok(
      writer.produced() < IN_FLIGHT_BOUND,
      `${writer.produced()} bytes went out to a paused reader, bound ${IN_FLIGHT_BOUND}`,
    );
    socket.resume();
    const arrived = await digest(socket);
    await writer.done;
    assert.equal(arrived.bytes, limit);
    socket.end();
    await readText(tunnel);
  });

  it('back-pressure: a paused client stalls the app writer after a bounded amount, then all arrives', async (t) => {
    const env = await setup(t);
    const { tunnel, socket } = await env.open();
    const limit = 3 * IN_FLIGHT_BOUND;
    const writer = flood(socket, limit);
    await writer.stalled();
    assert.ok(
      writer.produced() < IN_FLIGHT_BOUND,
      `${writer.produced()} bytes went out to a paused reader, bound ${IN_FLIGHT_BOUND}`,
    );
    const arrived = await digest(tunnel);
    await writer.done;
    assert.equal(arrived.bytes, limit);
    tunnel.end();
    await readText(socket);
  });
});
