// Graceful shutdown of the HBONE server: GOAWAY, stop accepting (at once, or after an accepting
// period), let open streams finish until the deadline, then close what is left, including a
// connection stuck in the HTTP/2 preface.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { HboneConnectError } from './errors.js';
import { HboneServer } from './server.js';
import {
  errorOf,
  makePki,
  rawTlsClient,
  readText,
  spiffe,
  startApp,
  startClient,
} from './test-support/hbone-endpoints.js';

const SERVER = spiffe('server');

async function setup(t: TestContext) {
  const pki = await makePki();
  const certificate = await pki.workload(SERVER);
  const server = new HboneServer({
    trustBundle: pki.trustBundle,
    certificateFor: () => certificate,
  });
  t.after(() => server.close({ drainMs: 0 }));
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const app = await startApp(t);
  const client = startClient(t);
  const connect = async (serviceAccount = 'client') =>
    client.connect({
      source: await pki.workload(spiffe(serviceAccount)),
      destinationIdentity: SERVER,
      destinationIp: '127.0.0.1',
      hbonePort: port,
      target: `127.0.0.1:${app.port}`,
    });
  return { server, app, client, connect };
}

describe('HBONE server shutdown', () => {
  it('stops accepting but lets an open stream finish, then resolves', async (t) => {
    const env = await setup(t);
    const tunnel = await env.connect();
    const socket = await env.app.socket();
    let closed = false;
    const closing = env.server.close({ drainMs: 60_000 }).then(() => (closed = true));

    await assert.rejects(env.connect('newcomer'), HboneConnectError);
    const appRead = readText(socket);
    tunnel.end('written after shutdown began');
    assert.equal(await appRead, 'written after shutdown began');
    const clientRead = readText(tunnel);
    socket.end('answered after shutdown began');
    assert.equal(await clientRead, 'answered after shutdown began');
    assert.equal(closed, false, 'close() resolved while a stream was still open');
    await closing;
    assert.equal(env.server.connections, 0);
  });

  it('with acceptMs, still serves new connections for that long (each told GOAWAY), then refuses', async (t) => {
    const env = await setup(t);
    const open = await env.connect();
    const openApp = await env.app.socket();
    const openAppError = errorOf(openApp);
    const started = Date.now();
    const closing = env.server.close({ drainMs: 60_000, acceptMs: 1500 });
    // A peer whose endpoint list still names this server: served, on a new connection (the pooled
    // one got GOAWAY), twice (its first connection is told GOAWAY after the first stream).
    for (const n of [1, 2]) {
      const tunnel = await env.connect('newcomer');
      const socket = await env.app.socket(n + 1);
      const appRead = readText(socket);
      tunnel.end(`newcomer ${n}`);
      assert.equal(await appRead, `newcomer ${n}`);
      const clientRead = readText(tunnel);
      socket.end(`answered ${n}`);
      assert.equal(await clientRead, `answered ${n}`);
      // Told GOAWAY with its first stream, the newcomer's connection closes once that stream is
      // done; the draining one of `open` is left.
      await eventually('the newcomer connection closed', () =>
        env.server.connections === 1 ? true : undefined,
      );
    }
    assert.ok(Date.now() - started < 1500, 'the newcomers came within the accepting period');
    await eventually('refusing new connections after acceptMs', async () =>
      (await env.connect('latecomer').then(
        (t) => (t.destroy(), false),
        (err: unknown) => err instanceof HboneConnectError,
      ))
        ? true
        : undefined,
    );
    assert.ok(Date.now() - started >= 1500, 'refused only after acceptMs');
    open.destroy();
    assert.equal((await openAppError).code, 'ECONNRESET', 'a stream reset by its client');
    await closing;
    assert.equal(env.server.connections, 0);
  });

  it('resets streams still open at the deadline', async (t) => {
    const env = await setup(t);
    const tunnel = await env.connect();
    const socket = await env.app.socket();
    const clientError = errorOf(tunnel);
    const appError = errorOf(socket);
    await env.server.close({ drainMs: 50 });
    assert.equal((await clientError).code, 'ECONNRESET');
    assert.equal((await appError).code, 'ECONNRESET');
  });
});

describe('HBONE server shutdown with a client stuck in the HTTP/2 preface', () => {
  it('closes an authenticated TLS connection that sent part of the preface by the deadline', async (t) => {
    const pki = await makePki();
    const certificate = await pki.workload(SERVER);
    const server = new HboneServer({
      trustBundle: pki.trustBundle,
      certificateFor: () => certificate,
    });
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const { socket, closed } = await rawTlsClient(t, pki, port);
    // not reading: what the server writes stays unread
    socket.write('PRI * HTTP/2.0\r\n'); // half the client preface, then silence
    await eventually('the server to accept the connection', () => server.connections > 0);
    const outcome = await Promise.race([
      server.close({ drainMs: 100 }).then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open 5 s later'), 5000).unref()),
    ]);
    assert.equal(outcome, 'closed');
    socket.resume(); // now read, to see the server's end
    await closed;
    assert.equal(server.connections, 0);
  });
});
