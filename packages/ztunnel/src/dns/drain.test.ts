// The DNS proxy closing in a rolling update: what it already took, or had queued, is still
// answered. On loopback in this process's own network namespace, with a real upstream resolver.
// Without the drain the answer was lost and the client waited out its resolver's timeout (the e2e
// ztunnel rolling update saw "Resolving timed out after 3000 milliseconds").
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { createLogger } from '@trellis/core';
import { StateStore } from '../state/store.js';
import { responseHeader, RCODE } from './message.js';
import { startPodDns, type PodDns } from './server.js';
import { netnsUpstreamSockets, Upstream } from './upstream.js';

const SELF_NETNS = `/proc/${process.pid}/ns/net`;

/** A query for `name` (A, recursion desired) with id `id`. */
function query(id: number, name: string): Buffer {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  return Buffer.from([
    id >> 8,
    id & 0xff,
    0x01,
    0x00,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    ...labels,
    0,
    0,
    1,
    0,
    1,
  ]);
}

async function udp(t: TestContext): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  t.after(() => s.close());
  return s;
}

/** An upstream resolver that answers NXDOMAIN to everything, `delayMs` late; counts what it got. */
async function slowUpstream(t: TestContext, delayMs: number) {
  const s = await udp(t);
  const got: Buffer[] = [];
  s.on('message', (msg, from) => {
    got.push(msg);
    const answer = Buffer.from(msg);
    answer[2] = answer[2]! | 0x80; // QR
    answer[3] = (answer[3]! & 0xf0) | 0x80 | RCODE.NXDOMAIN; // RA, rcode
    setTimeout(() => s.send(answer, from.port, from.address), delayMs);
  });
  return { port: s.address().port, got };
}

async function proxy(t: TestContext, upstreamPort: number, port: number): Promise<PodDns> {
  const dns = await startPodDns(
    {
      view: new StateStore(),
      client: { namespace: 'shop', network: '' },
      options: { clusterDomain: 'cluster.local', ipv6: false },
      upstream: new Upstream(
        [{ host: '127.0.0.1', port: upstreamPort }],
        netnsUpstreamSockets(SELF_NETNS, 0),
      ),
      logger: createLogger({ name: 'dns-drain-test', level: 'error' }).scope('dns'),
    },
    { netns: SELF_NETNS, port },
  );
  t.after(() => dns.close());
  return dns;
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  return port;
}

test(
  'closing with a drain time answers the queries already taken; closing at once drops them',
  { skip: process.getuid?.() !== 0 && 'needs root (sockets made through setns)' },
  async (t) => {
    const upstream = await slowUpstream(t, 300);
    for (const [drainMs, answered] of [
      [2000, true],
      [0, false],
    ] as const) {
      const port = await freeUdpPort();
      const dns = await proxy(t, upstream.port, port);
      const client = await udp(t);
      const replies: Buffer[] = [];
      client.on('message', (m) => replies.push(m));
      const before = upstream.got.length;
      client.send(query(0x1234, 'external.example'), port, '127.0.0.1');
      for (let i = 0; i < 100 && upstream.got.length === before; i++) await sleep(10);
      assert.equal(upstream.got.length, before + 1, 'the query was forwarded');
      const closed = dns.close(drainMs);
      await sleep(800);
      if (answered) {
        assert.equal(replies.length, 1, 'answered while draining');
        assert.deepEqual(
          { id: responseHeader(replies[0]!)!.id, rcode: responseHeader(replies[0]!)!.rcode },
          { id: 0x1234, rcode: RCODE.NXDOMAIN },
        );
      } else assert.equal(replies.length, 0, 'without a drain the answer is lost');
      await closed;
      // Closed now: nothing answers on the port any more.
      client.send(query(0x4321, 'external.example'), port, '127.0.0.1');
      await sleep(200);
      assert.equal(replies.length, answered ? 1 : 0);
    }
  },
);

test(
  'in a hand-over, the queries queued on the old proxy when it closes are answered, none lost',
  { skip: process.getuid?.() !== 0 && 'needs root (sockets made through setns)' },
  async (t) => {
    const upstream = await slowUpstream(t, 0);
    for (const [drainMs, allAnswered] of [
      [2000, true],
      [0, false],
    ] as const) {
      const port = await freeUdpPort();
      const old = await proxy(t, upstream.port, port);
      await proxy(t, upstream.port, port); // the new ztunnel's, on the same port
      const clients: dgram.Socket[] = [];
      const replies = new Set<number>();
      for (let i = 0; i < 40; i++) {
        const c = await udp(t);
        c.connect(port, '127.0.0.1');
        await once(c, 'connect');
        c.on('message', (m) => replies.add(responseHeader(m)!.id));
        clients.push(c);
      }
      // Sent on connected sockets (no lookup): all are queued, on either proxy's socket by the
      // kernel's hash of the client's port, before this turn ends and before the old one closes.
      clients.forEach((c, i) => c.send(query(i, 'external.example')));
      const closed = old.close(drainMs);
      // What reaches the port while the old proxy drains goes to the new one.
      clients.forEach((c, i) => c.send(query(100 + i, 'external.example')));
      await closed;
      for (let i = 0; i < 100 && replies.size < 80; i++) await sleep(10);
      const early = [...replies].filter((id) => id < 100).length;
      if (allAnswered) {
        assert.equal(early, 40, 'every query sent before the close was answered');
        assert.equal(replies.size, 80, 'and every one sent while it drained');
      } else
        assert.ok(early < 40, `closed at once, the old proxy's queue is lost (${early} of 40)`);
    }
  },
);
