// The server's resource bounds: a connection that carries no stream is closed after the idle
// timeout (a pooled client's as well as one that authenticated and never spoke HTTP/2), and a
// connection cap shared by several servers refuses what is past it. Counted on a real scrape.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { createMetrics } from '@trellis/core';
import { eventually } from '@trellis/core/test-support';
import { ConnectionBudget } from './connection-budget.js';
import { HboneServer, type HboneServerOptions } from './server.js';
import {
  makePki,
  rawTlsClient,
  readText,
  spiffe,
  startApp,
  startClient,
  startServer,
  type Pki,
} from './test-support/hbone-endpoints.js';

const SERVER = spiffe('server');

/** An HBONE server behind a listener that accepts half-open sockets (as ztunnel's listeners do). */
async function halfOpenListener(t: TestContext, pki: Pki, options: Partial<HboneServerOptions>) {
  const certificate = await pki.workload(SERVER);
  const refused: Error[] = [];
  const server = new HboneServer({
    trustBundle: pki.trustBundle,
    certificateFor: () => certificate,
    ...options,
  });
  server.on('clientError', (err) => refused.push(err));
  const listener = net.createServer({ allowHalfOpen: true }, (socket) => server.handle(socket));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    listener.close();
    await server.close({ drainMs: 0 });
  });
  return { server, refused, port: (listener.address() as net.AddressInfo).port };
}

async function scrapeSample(port: number, sample: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

/** An authenticated TLS connection (ALPN h2) that never sends a byte of HTTP/2. */
async function silentTls(t: TestContext, pki: Pki, port: number) {
  const c = await rawTlsClient(t, pki, port);
  c.socket.resume();
  return c;
}

describe('HBONE server limits', () => {
  it('closes a connection that carries no stream after the idle timeout, and counts it', async (t) => {
    const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
    t.after(() => metrics.stop());
    const pki = await makePki();
    const hbone = await startServer(t, pki, SERVER, {
      idleTimeoutMs: 300,
      meter: metrics.meter('hbone'),
    });
    const app = await startApp(t, (s) => s.pipe(s));
    // A pooled client keeps its connection for minutes; the server lets go first.
    const client = startClient(t, { idleTimeoutMs: 600_000 });
    const tunnel = await client.connect({
      source: await pki.workload(spiffe('client')),
      destinationIdentity: SERVER,
      destinationIp: '127.0.0.1',
      hbonePort: hbone.port,
      target: `127.0.0.1:${app.port}`,
    });
    // A stream open longer than the timeout keeps the connection.
    await new Promise((r) => setTimeout(r, 600));
    tunnel.end('still here');
    assert.equal(await readText(tunnel), 'still here');
    assert.equal(hbone.server.connections, 1);
    // Once its last stream is gone, it is idle.
    await eventually(
      'the idle connection to be closed',
      () => client.stats().connections === 0,
      10_000,
    );
    // The client may see the close before the server has counted its side of it.
    await eventually('the server to forget it', () => hbone.server.connections === 0, 10_000);

    // One that authenticated and never sent the HTTP/2 preface goes the same way.
    const silent = await silentTls(t, pki, hbone.port);
    await silent.closed;
    await eventually(
      'the silent connection to be forgotten',
      () => hbone.server.connections === 0,
      10_000,
    );
    assert.equal(
      await scrapeSample(metrics.port, 'hbone_idle_closed_connections_total{direction="inbound"}'),
      2,
    );
  });

  it('refuses connections past a cap shared by several servers, and counts them', async (t) => {
    const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
    t.after(() => metrics.stop());
    const pki = await makePki();
    const budget = new ConnectionBudget(2);
    const one = await startServer(t, pki, SERVER, { budget, meter: metrics.meter('hbone') });
    // The second is fed by a listener that accepts half-open sockets, as ztunnel's do.
    const two = await halfOpenListener(t, pki, { budget, meter: metrics.meter('hbone') });
    await silentTls(t, pki, one.port);
    const b = await silentTls(t, pki, two.port);
    await eventually(
      'two sessions',
      () => one.server.connections + two.server.connections === 2,
      10_000,
    );
    assert.equal(budget.inUse, 2);

    const third = await silentTls(t, pki, two.port);
    await third.closed;
    assert.ok(third.socket.alpnProtocol !== 'h2', 'refused before the TLS handshake');
    assert.match(two.refused.at(-1)?.message ?? '', /cap of 2 inbound HBONE connections/);
    assert.equal(
      await scrapeSample(
        metrics.port,
        'hbone_refused_connections_total{direction="inbound",reason="limit"}',
      ),
      1,
    );

    // A client that vanishes frees its place (its session does not linger), and the place is
    // taken again.
    b.socket.destroy();
    await eventually('the place to be given back', () => budget.inUse === 1, 10_000);
    assert.equal(two.server.connections, 0);
    await silentTls(t, pki, two.port);
    await eventually(
      'a new session on the freed place',
      () => two.server.connections === 1,
      10_000,
    );
  });
});
