// The metrics endpoint on 127.0.0.1: the sum of its sources, served even to a client that
// half-closes right after its request while the sources are still being asked.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { listen } from './listen.js';
import { createMetricsServer } from './metrics-server.js';

const text = (n: number) => `# TYPE c_total counter\nc_total{a="1"} ${n}\n`;

test('sums its sources; a half-closed request still gets the answer; other paths 404', async (t) => {
  let release!: () => void;
  const asked = new Promise<void>((r) => (release = r));
  const server = createMetricsServer(async () => {
    await asked;
    return [text(2), text(3)];
  });
  // The sources answer once the server has seen the client's FIN.
  server.on('connection', (socket: net.Socket) => socket.once('end', release));
  const port = await listen(server, { host: '127.0.0.1', port: 0 });
  t.after(() => server.close());

  const reply = await new Promise<string>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.end('GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n');
  });
  assert.match(reply, /^HTTP\/1\.1 200/);
  assert.match(reply, /\nc_total\{a="1"\} 5\n/);

  const other = await fetch(`http://127.0.0.1:${port}/nope`);
  assert.equal(other.status, 404);
  await other.text();
});
