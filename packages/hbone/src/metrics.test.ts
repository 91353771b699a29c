// The metrics hooks, scraped from a real @trellis/core Prometheus endpoint.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics } from '@trellis/core';
import { eventually } from '@trellis/core/test-support';
import {
  readText,
  makePki,
  spiffe,
  startApp,
  startClient,
  startServer,
} from './test-support/hbone-endpoints.js';

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}

function sample(text: string, name: string, direction: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{direction="${direction}"}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('HBONE metrics', () => {
  it('count bytes each way and open connections/streams, per direction', async (t) => {
    const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
    t.after(() => metrics.stop());
    const pki = await makePki();
    const hbone = await startServer(t, pki, spiffe('server'), { meter: metrics.meter('hbone') });
    const app = await startApp(t, (s) => {
      s.end('x'.repeat(700));
      s.resume();
    });
    const client = startClient(t, { meter: metrics.meter('hbone') });
    const tunnel = await client.connect({
      source: await pki.workload(spiffe('client')),
      destinationIdentity: spiffe('server'),
      destinationIp: '127.0.0.1',
      hbonePort: hbone.port,
      target: `127.0.0.1:${app.port}`,
    });
    const open = await scrape(metrics.port);
    assert.equal(sample(open, 'hbone_open_connections', 'outbound'), 1);
    assert.equal(sample(open, 'hbone_open_connections', 'inbound'), 1);
    assert.equal(sample(open, 'hbone_open_streams', 'outbound'), 1);
    assert.equal(sample(open, 'hbone_open_streams', 'inbound'), 1);
    tunnel.end('y'.repeat(300));
    await readText(tunnel);
    await eventually('the tunnel to be recorded as closed', () => hbone.closed.length > 0);
    const done = await scrape(metrics.port);
    assert.equal(sample(done, 'hbone_sent_bytes_total', 'outbound'), 300);
    assert.equal(sample(done, 'hbone_received_bytes_total', 'outbound'), 700);
    assert.equal(sample(done, 'hbone_sent_bytes_total', 'inbound'), 700);
    assert.equal(sample(done, 'hbone_received_bytes_total', 'inbound'), 300);
    assert.equal(sample(done, 'hbone_open_streams', 'outbound'), 0);
    assert.equal(sample(done, 'hbone_open_streams', 'inbound'), 0);
  });
});
