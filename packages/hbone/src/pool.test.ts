// Connection pooling in the HBONE client, observed from the server side: which TCP connection each
// CONNECT arrived on (its source port), and how many TCP connections were accepted.
import assert from 'node:assert/strict';
import { constants } from 'node:http2';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import type { ConnectOptions, HboneClient } from './client.js';
import type { SocketRequest } from './connection.js';
import { HboneConnectError } from './errors.js';
import { HboneServer } from './server.js';
import {
  makePki,
  readText,
  spiffe,
  startApp,
  startClient,
  startServer,
  type Pki,
  type RunningServer,
} from './test-support/hbone-endpoints.js';
import type { TunnelStream } from './tunnel-stream.js';

const SERVER = spiffe('server');

async function setup(t: TestContext) {
  const pki = await makePki();
  const hbone = await startServer(t, pki, SERVER);
  // Each app connection ends when the tunnel's client side ends.
  const app = await startApp(t, (s) => {
    s.on('end', () => s.end());
    s.resume();
  });
  return { pki, hbone, app };
}

function options(
  env: { hbone: RunningServer; app: { port: number } },
  source: ConnectOptions['source'],
): ConnectOptions {
  return {
    source,
    destinationIdentity: SERVER,
    destinationIp: '127.0.0.1',
    hbonePort: env.hbone.port,
    target: `127.0.0.1:${env.app.port}`,
  };
}

/** Ends each tunnel and waits until both directions closed. */
async function finish(tunnels: TunnelStream[]): Promise<void> {
  await Promise.all(
    tunnels.map((tunnel) => {
      tunnel.end();
      return readText(tunnel);
    }),
  );
}

/** The HBONE connection (client source port) each CONNECT so far arrived on. */
function sourcePorts(hbone: RunningServer): number[] {
  return hbone.requests.map((r) => r.source.port);
}

describe('HBONE client pool', () => {
  it('two streams with the same key share one TLS connection; concurrent first calls share one attempt', async (t) => {
    const env = await setup(t);
    const client = startClient(t);
    const source = await env.pki.workload(spiffe('client'));
    const tunnels = await Promise.all(
      Array.from({ length: 5 }, () => client.connect(options(env, source))),
    );
    assert.equal(env.hbone.accepted(), 1);
    assert.equal(new Set(sourcePorts(env.hbone)).size, 1);
    assert.deepEqual(client.stats(), { connections: 1, streams: 5 });
    await finish(tunnels);
    await eventually('no open streams', () => client.stats().streams === 0);
    const again = await client.connect(options(env, source));
    assert.equal(env.hbone.accepted(), 1);
    await finish([again]);
  });

  it('a different source identity or source IP gets its own connection', async (t) => {
    const env = await setup(t);
    const client = startClient(t);
    const alice = await env.pki.workload(spiffe('alice'));
    const bob = await env.pki.workload(spiffe('bob'));
    const tunnels = [
      await client.connect(options(env, alice)),
      await client.connect(options(env, bob)),
      await client.connect({ ...options(env, alice), sourceIp: '127.0.0.1' }),
    ];
    assert.equal(env.hbone.accepted(), 3);
    assert.equal(new Set(sourcePorts(env.hbone)).size, 3);
    assert.deepEqual(
      env.hbone.requests.map((r) => r.peer.uri),
      [spiffe('alice'), spiffe('bob'), spiffe('alice')],
    );
    await finish(tunnels);
  });

  it('credentials rebuilt for every call (as a ztunnel does per connection) are told apart by their certificate', async (t) => {
    const env = await setup(t);
    const client = startClient(t);
    const alice = await env.pki.workload(spiffe('alice'));
    const bob = await env.pki.workload(spiffe('bob'));
    const tunnels = [];
    for (const source of [alice, alice, bob, alice, bob])
      tunnels.push(await client.connect(options(env, { ...source })));
    assert.equal(env.hbone.accepted(), 2);
    assert.deepEqual(
      env.hbone.requests.map((r) => r.peer.uri),
      [spiffe('alice'), spiffe('alice'), spiffe('bob'), spiffe('alice'), spiffe('bob')],
    );
    await finish(tunnels);
  });

  it('a TLS context kept for a certificate serves only the key and trust bundle it was made with', async (t) => {
    const env = await setup(t);
    const client = startClient(t);
    const alice = await env.pki.workload(spiffe('alice'));
    const bob = await env.pki.workload(spiffe('bob'));
    // Two connections (another source IP) with alice's credentials: the second reuses the context.
    await finish([await client.connect(options(env, alice))]);
    await finish([await client.connect({ ...options(env, alice), sourceIp: '127.0.0.1' })]);
    assert.deepEqual(
      env.hbone.requests.map((r) => r.peer.uri),
      [spiffe('alice'), spiffe('alice')],
    );
    // Alice's chain array with bob's key: a context made for it refuses the pair, where the kept
    // one would have connected as alice with a key the caller did not give.
    const other = await makePki('Other Root CA');
    await assert.rejects(
      client.connect({
        ...options(env, { ...alice, key: bob.key }),
        sourceIp: '127.0.0.2',
      }),
      /key values mismatch/,
    );
    // And with another trust bundle, the server (whose root that bundle lacks) is refused.
    await assert.rejects(
      client.connect({
        ...options(env, { ...alice, trustBundle: other.trustBundle }),
        sourceIp: '127.0.0.3',
      }),
      /certificate|self.signed|unable to (get|verify)/i,
    );
    assert.equal(env.hbone.requests.length, 2, 'no CONNECT arrived from the refused pairs');
  });

  it('the 101st concurrent stream opens a second connection', async (t) => {
    const env = await setup(t);
    const client = startClient(t);
    const source = await env.pki.workload(spiffe('client'));
    const tunnels = await Promise.all(
      Array.from({ length: 101 }, () => client.connect(options(env, source))),
    );
    const perConnection = new Map<number, number>();
    for (const port of sourcePorts(env.hbone))
      perConnection.set(port, (perConnection.get(port) ?? 0) + 1);
    assert.deepEqual(
      [...perConnection.values()].sort((a, b) => b - a),
      [100, 1],
    );
    assert.deepEqual(client.stats(), { connections: 2, streams: 101 });
    await finish(tunnels);
  });

  it('releases a connection left idle for idleTimeoutMs', async (t) => {
    const env = await setup(t);
    const client = startClient(t, { idleTimeoutMs: 50 });
    const source = await env.pki.workload(spiffe('client'));
    await finish([await client.connect(options(env, source))]);
    await env.hbone.connectionClosed(1);
    await eventually('no open connections', () => client.stats().connections === 0);
    await finish([await client.connect(options(env, source))]);
    assert.equal(env.hbone.accepted(), 2);
  });

  it('a connection closed by the server (GOAWAY) leaves the pool; the next call opens a new one', async (t) => {
    const pki: Pki = await makePki();
    const certificate = await pki.workload(SERVER);
    const first = new HboneServer({
      trustBundle: pki.trustBundle,
      certificateFor: () => certificate,
    });
    const second = new HboneServer({
      trustBundle: pki.trustBundle,
      certificateFor: () => certificate,
    });
    let current = first;
    let accepted = 0;
    const listener = net.createServer((socket) => {
      accepted++;
      current.handle(socket);
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      listener.close();
      await Promise.all([first.close({ drainMs: 0 }), second.close({ drainMs: 0 })]);
    });
    const app = await startApp(t, (s) => {
      s.on('end', () => s.end());
      s.resume();
    });
    const client: HboneClient = startClient(t);
    const connect = async () =>
      client.connect({
        source: await pki.workload(spiffe('client')),
        destinationIdentity: SERVER,
        destinationIp: '127.0.0.1',
        hbonePort: (listener.address() as net.AddressInfo).port,
        target: `127.0.0.1:${app.port}`,
      });
    await finish([await connect()]);
    current = second;
    await first.close();
    await eventually('no open connections', () => client.stats().connections === 0);
    await finish([await connect()]);
    assert.equal(accepted, 2);
    assert.equal(second.connections, 1);
  });

  it('a failed connection attempt is not pooled, and every caller waiting on it gets the error', async (t) => {
    const pki = await makePki();
    const closedPort = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const client = startClient(t);
    const source = await pki.workload(spiffe('client'));
    const attempt = () =>
      client.connect({
        source,
        destinationIdentity: SERVER,
        destinationIp: '127.0.0.1',
        hbonePort: closedPort,
        target: '127.0.0.1:9',
      });
    const results = await Promise.allSettled([attempt(), attempt(), attempt()]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof HboneConnectError);
      assert.match(r.reason.message, /ECONNREFUSED/);
    }
    assert.deepEqual(client.stats(), { connections: 0, streams: 0 });
  });

  it('uses the injected socket factory, passing the source IP to bind', async (t) => {
    const env = await setup(t);
    const requests: SocketRequest[] = [];
    const client = startClient(t, {
      connectSocket: (request) => {
        requests.push(request);
        return new Promise((resolve, reject) => {
          const socket = net.connect({
            host: request.host,
            port: request.port,
            localAddress: request.localAddress,
          });
          socket.once('connect', () => resolve(socket)).once('error', reject);
        });
      },
    });
    const source = await env.pki.workload(spiffe('client'));
    await finish([await client.connect({ ...options(env, source), sourceIp: '127.0.0.1' })]);
    assert.equal(requests.length, 1);
    assert.deepEqual(
      { host: requests[0]?.host, port: requests[0]?.port, localAddress: requests[0]?.localAddress },
      { host: '127.0.0.1', port: env.hbone.port, localAddress: '127.0.0.1' },
    );
    assert.equal(env.hbone.requests[0]?.source.address, '127.0.0.1');
  });

  it('retries once when the server refuses the stream unprocessed (REFUSED_STREAM)', async (t) => {
    const pki = await makePki();
    let calls = 0;
    const hbone = await startServer(t, pki, SERVER, {
      onConnect: (request) => {
        if (++calls === 1) request.stream.close(constants.NGHTTP2_REFUSED_STREAM);
        return { allow: true };
      },
    });
    const app = await startApp(t, (s) => s.end('made it'));
    const client = startClient(t);
    const tunnel = await client.connect(
      options({ hbone, app }, await pki.workload(spiffe('client'))),
    );
    tunnel.end();
    assert.equal(await readText(tunnel), 'made it');
    assert.equal(hbone.requests.length, 2);
  });
});
