// Handing a UDP port over between two SO_REUSEPORT sockets: the old one leaves the group, reads
// what it had queued and answers it from the port's address, while every new datagram reaches
// the new one. In a network namespace of the test's own (loopback only).
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it, before, after } from 'node:test';
import { rootOnly } from '@trellis/core/test-support';
import { createNetnsPair, type NetnsPair } from './test-support/netns-fixture.js';
import { udpSocketInNetns } from './netns-sockets.js';
import { leaveReusePortGroup, queuedDatagram } from './udp-handover.js';

/** `n` clients in `ns`, each its own source port, connected to 127.0.0.1:`port`. */
async function clients(ns: string, port: number, n: number): Promise<dgram.Socket[]> {
  const out: dgram.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const c = await udpSocketInNetns(ns, { host: '127.0.0.1', port: 0 });
    c.connect(port, '127.0.0.1');
    await once(c, 'connect');
    out.push(c);
  }
  return out;
}

describe('UDP port hand-over between SO_REUSEPORT sockets', rootOnly('network namespaces'), () => {
  let pair: NetnsPair;
  before(async () => {
    pair = await createNetnsPair();
  });
  after(async () => {
    await pair.destroy();
  });

  it('the old socket answers what it had queued and gets nothing new; the new one gets the rest', async () => {
    const ns = pair.a.path;
    const old = await udpSocketInNetns(ns, { host: '127.0.0.1', port: 0, reusePort: true });
    const port = old.address().port;
    const fresh = await udpSocketInNetns(ns, { host: '127.0.0.1', port, reusePort: true });
    const senders = await clients(ns, port, 40);
    const toOld: string[] = [];
    const toFresh: string[] = [];
    const answered = new Set<string>();
    try {
      // Sent on connected sockets: no lookup, so each datagram is queued before this turn ends,
      // before either socket read any of them.
      senders.forEach((c, i) => c.send(`early-${i}`));
      assert.ok(queuedDatagram(old) > 0, 'some datagrams are queued on the old socket');
      leaveReusePortGroup(old);
      senders.forEach((c, i) => c.send(`late-${i}`));
      for (const c of senders) c.on('message', (m) => answered.add(m.toString()));
      old.on('message', (m, from) => {
        toOld.push(m.toString());
        old.send(`answer ${m}`, from.port, from.address);
      });
      fresh.on('message', (m, from) => {
        toFresh.push(m.toString());
        fresh.send(`answer ${m}`, from.port, from.address);
      });
      for (let i = 0; i < 200 && answered.size < 80; i++) await sleep(10);
      assert.equal(queuedDatagram(old), 0, 'the old socket read all it had queued');
      assert.equal(answered.size, 80, 'every datagram was answered');
      assert.ok(toOld.length > 0, 'the old socket had a share of the early datagrams');
      assert.deepEqual(
        toOld.filter((m) => m.startsWith('late-')),
        [],
        'the old socket got no datagram sent after it left the group',
      );
      assert.equal(toFresh.filter((m) => m.startsWith('late-')).length, 40);
    } finally {
      for (const s of [old, fresh, ...senders]) s.close();
    }
  });

  it('a socket not made by udpSocketInNetns is refused with the reason', async () => {
    const s = dgram.createSocket('udp4');
    try {
      assert.throws(() => leaveReusePortGroup(s), /not made by udpSocketInNetns/);
    } finally {
      s.close();
    }
  });
});
