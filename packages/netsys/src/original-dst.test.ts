import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rootOnly } from '@trellis/core/test-support';
import { connectInNetns, listenInNetns } from './netns-sockets.js';
import { fdOf, originalDst, trackedOriginalDst, type SocketAddress } from './original-dst.js';
import { createNetnsPair, execIn, type NetnsPair } from './test-support/netns-fixture.js';

interface Accepted {
  localAddress: string | undefined;
  localPort: number | undefined;
  dst: SocketAddress | Error;
  /** trackedOriginalDst of the same socket. */
  tracked: SocketAddress | undefined | Error;
}

/** A listener in `netns` that reports originalDst of each accepted connection. */
async function reportingListener(netns: string, host: string, ipv6Only?: boolean) {
  const accepted: Accepted[] = [];
  const waiters: Array<(a: Accepted) => void> = [];
  const server = net.createServer((c) => {
    let dst: SocketAddress | Error;
    try {
      dst = originalDst(fdOf(c));
    } catch (err) {
      dst = err as Error;
    }
    let tracked: SocketAddress | undefined | Error;
    try {
      tracked = trackedOriginalDst(fdOf(c));
    } catch (err) {
      tracked = err as Error;
    }
    const entry = { localAddress: c.localAddress, localPort: c.localPort, dst, tracked };
    c.destroy();
    const waiter = waiters.shift();
    if (waiter) waiter(entry);
    else accepted.push(entry);
  });
  await listenInNetns(server, netns, { host, port: 0, ipv6Only });
  const port = (server.address() as net.AddressInfo).port;
  const next = () =>
    new Promise<Accepted>((resolve) => {
      const ready = accepted.shift();
      if (ready) resolve(ready);
      else waiters.push(resolve);
    });
  return { server, port, next };
}

async function connectAndAccept(
  netns: string,
  host: string,
  port: number,
  listener: { next: () => Promise<Accepted> },
): Promise<Accepted> {
  const socket = await connectInNetns(netns, { host, port });
  const accepted = await listener.next();
  socket.destroy();
  return accepted;
}

describe('originalDst', rootOnly('network namespaces and iptables'), () => {
  let pair: NetnsPair;
  const servers: net.Server[] = [];

  before(async () => {
    pair = await createNetnsPair();
  });
  after(async () => {
    for (const s of servers) s.close();
    await pair.destroy();
  });

  async function redirect(
    tool: 'iptables' | 'ip6tables',
    dst: string,
    dport: number,
    toPort: number,
  ) {
    await execIn(
      pair.a,
      tool,
      '-t',
      'nat',
      '-A',
      'OUTPUT',
      '-p',
      'tcp',
      '-d',
      dst,
      '--dport',
      String(dport),
      '-j',
      'REDIRECT',
      '--to-ports',
      String(toPort),
    );
  }

  it('returns the pre-REDIRECT IPv4 destination', async () => {
    const listener = await reportingListener(pair.a.path, '0.0.0.0');
    servers.push(listener.server);
    await redirect('iptables', pair.unusedIpv4, 8080, listener.port);
    const accepted = await connectAndAccept(pair.a.path, pair.unusedIpv4, 8080, listener);
    assert.equal(accepted.localPort, listener.port, 'the connection was redirected');
    assert.deepEqual(accepted.dst, { address: pair.unusedIpv4, port: 8080, family: 4 });
    assert.deepEqual(accepted.tracked, accepted.dst, 'trackedOriginalDst gives the same');
  });

  it('returns the pre-REDIRECT IPv6 destination', async () => {
    const listener = await reportingListener(pair.a.path, '::', true);
    servers.push(listener.server);
    await redirect('ip6tables', pair.unusedIpv6, 8080, listener.port);
    const accepted = await connectAndAccept(pair.a.path, pair.unusedIpv6, 8080, listener);
    assert.equal(accepted.localPort, listener.port, 'the connection was redirected');
    assert.deepEqual(accepted.dst, { address: pair.unusedIpv6, port: 8080, family: 6 });
    assert.deepEqual(accepted.tracked, accepted.dst, 'trackedOriginalDst gives the same');
  });

  it('returns the IPv4 destination of a connection accepted on a dual-stack IPv6 listener', async () => {
    const listener = await reportingListener(pair.a.path, '::', false);
    servers.push(listener.server);
    await redirect('iptables', pair.unusedIpv4, 8081, listener.port);
    const accepted = await connectAndAccept(pair.a.path, pair.unusedIpv4, 8081, listener);
    assert.equal(accepted.localAddress, '::ffff:127.0.0.1', 'accepted as v4-mapped');
    assert.deepEqual(accepted.dst, { address: pair.unusedIpv4, port: 8081, family: 4 });
  });

  it('returns the actual destination of a connection that conntrack saw but did not redirect', async () => {
    const listener = await reportingListener(pair.a.path, pair.a.ipv4);
    servers.push(listener.server);
    const accepted = await connectAndAccept(pair.b.path, pair.a.ipv4, listener.port, listener);
    assert.deepEqual(accepted.dst, { address: pair.a.ipv4, port: listener.port, family: 4 });
  });

  it('throws ENOENT where conntrack has no entry (a namespace without NAT rules)', async () => {
    const listener = await reportingListener(pair.b.path, '127.0.0.1');
    servers.push(listener.server);
    const accepted = await connectAndAccept(pair.b.path, '127.0.0.1', listener.port, listener);
    assert.ok(accepted.dst instanceof Error);
    assert.equal((accepted.dst as NodeJS.ErrnoException).code, 'ENOENT');
    assert.match(
      accepted.dst.message,
      /getsockopt\(SO_ORIGINAL_DST\) failed: ENOENT .*no conntrack entry/,
    );
    assert.equal(accepted.tracked, undefined, 'trackedOriginalDst: undefined, no exception');
  });

  it('throws EBADF for a closed fd and ENOTSOCK for a file', () => {
    assert.throws(() => originalDst(1_000_000), {
      code: 'EBADF',
      message: /^originalDst\(fd 1000000\): getsockname failed: EBADF/,
    });
    assert.throws(
      () => trackedOriginalDst(1_000_000),
      { code: 'EBADF' },
      'only ENOENT is undefined',
    );
    const file = openSync('/proc/self/status', 'r');
    try {
      assert.throws(() => originalDst(file), { code: 'ENOTSOCK' });
    } finally {
      closeSync(file);
    }
    assert.throws(() => originalDst(-1), {
      name: 'TypeError',
      message: /originalDst: the file descriptor must be an integer >= 0/,
    });
  });
});
