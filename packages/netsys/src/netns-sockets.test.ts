import assert from 'node:assert/strict';
import type * as dgram from 'node:dgram';
import { on, once } from 'node:events';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rootOnly } from '@trellis/core/test-support';
import { connectInNetns, listenInNetns, udpSocketInNetns } from './netns-sockets.js';
import {
  createNetnsPair,
  readFromInside,
  startPeerReporter,
  type NetnsPair,
  type PeerReporter,
} from './test-support/netns-fixture.js';

async function readAll(socket: net.Socket): Promise<string> {
  let text = '';
  socket.setEncoding('utf8');
  for await (const chunk of socket) text += chunk;
  return text;
}

async function connectFromHost(host: string, port: number): Promise<void> {
  const socket = net.connect(port, host);
  await once(socket, 'connect');
  socket.destroy();
}

describe('sockets in another network namespace', rootOnly('network namespaces and veths'), () => {
  let pair: NetnsPair;
  const reporters: PeerReporter[] = [];

  before(async () => {
    pair = await createNetnsPair();
  });
  after(async () => {
    for (const r of reporters) r.stop();
    await pair.destroy();
  });

  it('a listener created in netns A serves clients inside A and is not reachable from the host', async () => {
    const server = net.createServer((c) => c.end(`hello ${c.remoteAddress}`));
    await listenInNetns(server, pair.a.path, { host: '127.0.0.1', port: 0 });
    const { port } = server.address() as net.AddressInfo;
    try {
      assert.equal(await readFromInside(pair.a, '127.0.0.1', port), 'hello 127.0.0.1');
      await assert.rejects(connectFromHost('127.0.0.1', port), { code: 'ECONNREFUSED' });
    } finally {
      server.close();
    }
  });

  it("a listener on A's veth address is reached from netns B through the veth", async () => {
    const server = net.createServer((c) => c.end(`hello ${c.remoteAddress}`));
    await listenInNetns(server, pair.a.path, { host: pair.a.ipv4, port: 0 });
    const { port } = server.address() as net.AddressInfo;
    try {
      assert.equal(await readFromInside(pair.b, pair.a.ipv4, port), `hello ${pair.b.ipv4}`);
    } finally {
      server.close();
    }
  });

  it("an outbound socket created in netns A connects to a server on A's loopback", async () => {
    const reporter = await startPeerReporter(pair.a, '127.0.0.1');
    reporters.push(reporter);
    const socket = await connectInNetns(pair.a.path, { host: '127.0.0.1', port: reporter.port });
    assert.equal(socket.remotePort, reporter.port);
    assert.equal(await readAll(socket), '127.0.0.1\n');
  });

  it("an outbound socket from A reaches a server in B with A's address as its source (IPv4 and IPv6)", async () => {
    const v4 = await startPeerReporter(pair.b, pair.b.ipv4);
    const v6 = await startPeerReporter(pair.b, pair.b.ipv6);
    reporters.push(v4, v6);
    const s4 = await connectInNetns(pair.a.path, { host: pair.b.ipv4, port: v4.port });
    assert.equal(await readAll(s4), `${pair.a.ipv4}\n`);
    const s6 = await connectInNetns(pair.a.path, { host: pair.b.ipv6, port: v6.port });
    assert.equal(await readAll(s6), `${pair.a.ipv6}\n`);
  });

  it('connecting inside A is refused when only the host listens on that port', async () => {
    const hostServer = net.createServer((c) => c.end());
    hostServer.listen(0, '127.0.0.1');
    await once(hostServer, 'listening');
    const { port } = hostServer.address() as net.AddressInfo;
    try {
      await assert.rejects(
        connectInNetns(pair.a.path, { host: '127.0.0.1', port }),
        (err: NodeJS.ErrnoException) => {
          assert.equal(err.code, 'ECONNREFUSED');
          assert.equal(err.syscall, 'connect');
          assert.match(
            err.message,
            new RegExp(`connectInNetns\\(${pair.a.path}\\) to 127\\.0\\.0\\.1:${port}`),
          );
          return true;
        },
      );
    } finally {
      hostServer.close();
    }
  });

  it('an aborted connect rejects with the abort reason', async () => {
    const controller = new AbortController();
    // Nothing answers ARP for this address, so the connect stays pending.
    const pending = connectInNetns(pair.a.path, {
      host: pair.unusedIpv4,
      port: 80,
      signal: controller.signal,
    });
    controller.abort(new Error('gave up'));
    await assert.rejects(pending, { message: 'gave up' });
  });

  it('a UDP socket bound in A receives datagrams sent inside A and from B', async () => {
    const receiver = await udpSocketInNetns(pair.a.path, { host: '0.0.0.0', port: 0 });
    const local = await udpSocketInNetns(pair.a.path, { host: '127.0.0.1', port: 0 });
    const remote = await udpSocketInNetns(pair.b.path, { host: pair.b.ipv4, port: 0 });
    const port = receiver.address().port;
    try {
      const received = (async () => {
        const seen: string[] = [];
        for await (const [msg, rinfo] of on(receiver, 'message') as AsyncIterable<
          [Buffer, dgram.RemoteInfo]
        >) {
          seen.push(`${msg.toString()} from ${rinfo.address}`);
          if (seen.length === 2) return seen.sort();
        }
        return seen;
      })();
      local.send('one', port, '127.0.0.1');
      remote.send('two', port, pair.a.ipv4);
      assert.deepEqual(await received, ['one from 127.0.0.1', `two from ${pair.b.ipv4}`]);
    } finally {
      for (const s of [receiver, local, remote]) s.close();
    }
  });
});
