import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rootOnly } from '@trellis/core/test-support';
import { listenInNetns } from './netns-sockets.js';
import { socketInNetns, type SocketInNetnsOptions } from './socket-in-netns.js';
import {
  createNetnsPair,
  currentNetnsInode,
  execIn,
  readFromInside,
  type Netns,
  type NetnsPair,
} from './test-support/netns-fixture.js';

/** Connections waiting in the accept queue of the listener on `port` in `ns` (ss's Recv-Q). */
async function acceptQueue(ns: Netns, port: number): Promise<number> {
  const out = await execIn(ns, 'ss', '-Hltn', `sport = :${port}`);
  return out
    .split('\n')
    .filter(Boolean)
    .reduce((n, line) => n + Number(line.trim().split(/\s+/)[1]), 0);
}

describe('socketInNetns', rootOnly('network namespaces'), () => {
  let pair: NetnsPair;
  let home: number;

  before(async () => {
    pair = await createNetnsPair();
    home = currentNetnsInode();
  });
  after(() => pair.destroy());

  it('takes the namespace as an open fd and leaves the calling thread in its own namespace', async () => {
    const nsFd = openSync(pair.a.path, 'r');
    const fd = socketInNetns(nsFd, {
      type: 'tcp',
      family: 4,
      listen: { host: pair.a.ipv4, port: 0 },
    });
    closeSync(nsFd);
    assert.equal(currentNetnsInode(), home);
    const server = net.createServer((c) => c.end('from the fd-created listener'));
    server.listen({ fd });
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      assert.equal(await readFromInside(pair.b, pair.a.ipv4, port), 'from the fd-created listener');
    } finally {
      server.close();
    }
  });

  const failures: Array<[string, () => string | number, SocketInNetnsOptions, RegExp, string]> = [
    [
      'a namespace path that does not exist',
      () => '/run/netns/nsy-does-not-exist',
      { type: 'tcp', family: 4 },
      /socketInNetns\(\/run\/netns\/nsy-does-not-exist\): open failed: ENOENT .*no such network namespace/,
      'ENOENT',
    ],
    [
      'a namespace of another kind',
      () => '/proc/self/ns/uts',
      { type: 'tcp', family: 4 },
      /setns failed: EINVAL .*not a network namespace/,
      'EINVAL',
    ],
    [
      'an fd that is not open',
      () => 1_000_000,
      { type: 'tcp', family: 4 },
      /socketInNetns\(fd 1000000\): setns failed: EBADF/,
      'EBADF',
    ],
    [
      'an address that is not in the namespace (after entering it)',
      () => pair.a.path,
      { type: 'tcp', family: 4, listen: { host: '10.250.0.1', port: 0 } },
      /bind 10\.250\.0\.1:0 failed: EADDRNOTAVAIL .*not assigned in that network namespace/,
      'EADDRNOTAVAIL',
    ],
    [
      'a network with no route in the namespace (after entering it)',
      () => pair.a.path,
      { type: 'tcp', family: 4, connect: { host: '192.0.2.1', port: 80 } },
      /connect 192\.0\.2\.1:80 failed: ENETUNREACH/,
      'ENETUNREACH',
    ],
  ];
  for (const [name, netns, options, message, code] of failures) {
    it(`fails clearly for ${name} and stays in its own namespace`, () => {
      assert.throws(
        () => socketInNetns(netns(), options),
        (err: NodeJS.ErrnoException) => {
          assert.equal(err.code, code);
          assert.match(err.message, message);
          return true;
        },
      );
      assert.equal(currentNetnsInode(), home);
    });
  }

  it('fails with EADDRINUSE for a port already listening in the namespace', async () => {
    const first = net.createServer();
    await listenInNetns(first, pair.a.path, { host: '127.0.0.1', port: 0 });
    const { port } = first.address() as net.AddressInfo;
    try {
      assert.throws(
        () =>
          socketInNetns(pair.a.path, {
            type: 'tcp',
            family: 4,
            listen: { host: '127.0.0.1', port },
          }),
        {
          code: 'EADDRINUSE',
          message: new RegExp(`(bind|listen) 127\\.0\\.0\\.1:${port} failed: EADDRINUSE`),
        },
      );
      assert.equal(currentNetnsInode(), home);
    } finally {
      first.close();
    }
  });

  it('with reusePort, a second listener shares the port and serves alone once the first closes', async () => {
    const serve = (name: string) => net.createServer((c) => c.end(name));
    const first = serve('first');
    await listenInNetns(first, pair.a.path, { host: pair.a.ipv4, port: 0, reusePort: true });
    const { port } = first.address() as net.AddressInfo;
    const second = serve('second');
    try {
      await listenInNetns(second, pair.a.path, { host: pair.a.ipv4, port, reusePort: true });
      // The kernel spreads connections over both (by a hash of the client's address and port).
      const seen = new Set<string>();
      for (let i = 0; i < 40 && seen.size < 2; i++)
        seen.add(await readFromInside(pair.b, pair.a.ipv4, port));
      assert.deepEqual([...seen].sort(), ['first', 'second']);
      await new Promise((resolve) => first.close(resolve));
      for (let i = 0; i < 10; i++)
        assert.equal(await readFromInside(pair.b, pair.a.ipv4, port), 'second');
    } finally {
      first.close();
      second.close();
    }
  });

  it('with reusePort, connections queued on a listener that closes go to the other, not reset', async () => {
    const probe = net.createServer();
    await listenInNetns(probe, pair.a.path, { host: pair.a.ipv4, port: 0 });
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    // The first listener is a bare fd nobody accepts from: its clients wait in its accept queue.
    const first = socketInNetns(pair.a.path, {
      type: 'tcp',
      family: 4,
      listen: { host: pair.a.ipv4, port },
      reusePort: true,
    });
    const clients = [1, 2, 3].map(() => readFromInside(pair.b, pair.a.ipv4, port));
    const second = net.createServer((c) => c.end('second'));
    try {
      // Until the three handshakes are done and the connections sit in the queue (ss: Recv-Q).
      for (let i = 0; i < 100 && (await acceptQueue(pair.a, port)) < 3; i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(await acceptQueue(pair.a, port), 3, 'three connections queued');
      await listenInNetns(second, pair.a.path, { host: pair.a.ipv4, port, reusePort: true });
      closeSync(first);
      assert.deepEqual(await Promise.all(clients), ['second', 'second', 'second']);
    } finally {
      second.close();
    }
  });

  const invalid: Array<[string, unknown, unknown, RegExp]> = [
    [
      'netns of the wrong type',
      {},
      { type: 'tcp', family: 4 },
      /the network namespace must be a path \(string\) or a file descriptor \(number\)/,
    ],
    ['an empty netns path', '', { type: 'tcp', family: 4 }, /the network namespace path is empty/],
    ['an unknown type', '/run/netns/x', { type: 'sctp', family: 4 }, /type must be 'tcp' or 'udp'/],
    ['an unknown family', '/run/netns/x', { type: 'tcp', family: 5 }, /family must be 4 or 6/],
    [
      'a host of the other family',
      '/run/netns/x',
      { type: 'tcp', family: 4, bind: { host: '::1', port: 0 } },
      /bind\.host '::1' is not an IPv4 address/,
    ],
    [
      'a port out of range',
      '/run/netns/x',
      { type: 'tcp', family: 6, listen: { host: '::1', port: 70000 } },
      /listen\.port must be an integer from 0 to 65535/,
    ],
    [
      'listen and bind together',
      '/run/netns/x',
      {
        type: 'tcp',
        family: 4,
        bind: { host: '127.0.0.1', port: 0 },
        listen: { host: '127.0.0.1', port: 0 },
      },
      /give listen or bind, not both/,
    ],
    [
      'listen on UDP',
      '/run/netns/x',
      { type: 'udp', family: 4, listen: { host: '127.0.0.1', port: 0 } },
      /listen needs type 'tcp'/,
    ],
    [
      'ipv6Only on IPv4',
      '/run/netns/x',
      { type: 'tcp', family: 4, ipv6Only: true },
      /ipv6Only applies to family 6 only/,
    ],
    [
      'a negative mark',
      '/run/netns/x',
      { type: 'tcp', family: 4, mark: -1 },
      /mark must be an integer from 0 to 4294967295/,
    ],
  ];
  for (const [name, netns, options, message] of invalid) {
    it(`rejects ${name} before touching any namespace`, () => {
      assert.throws(
        () => socketInNetns(netns as string, options as SocketInNetnsOptions),
        (err: Error) => err instanceof TypeError && message.test(err.message),
      );
      assert.equal(currentNetnsInode(), home);
    });
  }
});
