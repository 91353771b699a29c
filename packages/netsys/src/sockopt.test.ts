import assert from 'node:assert/strict';
import { closeSync } from 'node:fs';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rootOnly } from '@trellis/core/test-support';
import { connectInNetns } from './netns-sockets.js';
import { fdOf } from './original-dst.js';
import { socketInNetns } from './socket-in-netns.js';
import { getMark, getTransparent, setMark, setTransparent } from './sockopt.js';
import {
  createNetnsPair,
  execIn,
  startPeerReporter,
  type NetnsPair,
  type PeerReporter,
} from './test-support/netns-fixture.js';

async function drain(socket: net.Socket): Promise<void> {
  for await (const _ of socket);
}

describe('socket options', rootOnly('network namespaces and iptables'), () => {
  let pair: NetnsPair;
  let reporter: PeerReporter;

  before(async () => {
    pair = await createNetnsPair();
    reporter = await startPeerReporter(pair.b, pair.b.ipv4);
    // Counts (no target) the TCP packets from A to the reporter that carry ztunnel's mark.
    await execIn(
      pair.a,
      'iptables',
      '-t',
      'mangle',
      '-A',
      'OUTPUT',
      '-p',
      'tcp',
      '-d',
      pair.b.ipv4,
      '--dport',
      String(reporter.port),
      '-m',
      'mark',
      '--mark',
      '0x539/0xfff',
    );
  });
  after(async () => {
    reporter.stop();
    await pair.destroy();
  });

  async function markedPackets(): Promise<number> {
    const rules = await execIn(pair.a, 'iptables-save', '-c', '-t', 'mangle');
    const line = rules.split('\n').find((l) => l.includes('--mark 0x539/0xfff'));
    const match = /^\[(\d+):\d+\]/.exec(line ?? '');
    assert.ok(match, `no counted mark rule in:\n${rules}`);
    return Number(match[1]);
  }

  it('a mark set at creation is on every packet: iptables in the namespace matches it', async () => {
    const before = await markedPackets();
    const unmarked = await connectInNetns(pair.a.path, { host: pair.b.ipv4, port: reporter.port });
    await drain(unmarked);
    assert.equal(await markedPackets(), before, 'an unmarked connection is not counted');

    const marked = await connectInNetns(pair.a.path, {
      host: pair.b.ipv4,
      port: reporter.port,
      mark: 0x539,
    });
    assert.equal(getMark(fdOf(marked)), 0x539);
    await drain(marked);
    assert.ok((await markedPackets()) > before, 'the marked connection is counted');
  });

  it('setMark and getMark work on a socket Node created', async () => {
    const server = net.createServer((c) => c.end());
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    try {
      assert.equal(getMark(fdOf(client)), 0);
      setMark(fdOf(client), 0xfffff539);
      assert.equal(getMark(fdOf(client)), 0xfffff539);
    } finally {
      client.destroy();
      server.close();
    }
  });

  for (const family of [4, 6] as const) {
    it(`setTransparent and getTransparent round-trip (IPv${family})`, () => {
      const fd = socketInNetns(pair.a.path, { type: 'tcp', family });
      try {
        assert.equal(getTransparent(fd, family), false);
        setTransparent(fd, true, family);
        assert.equal(getTransparent(fd, family), true);
        setTransparent(fd, false, family);
        assert.equal(getTransparent(fd, family), false);
      } finally {
        closeSync(fd);
      }
    });
  }

  it('transparent lets a socket bind an address its namespace does not have', () => {
    for (const [family, host] of [
      [4, '10.250.0.1'],
      [6, 'fd77:ffff::1'],
    ] as const) {
      assert.throws(
        () => socketInNetns(pair.a.path, { type: 'tcp', family, bind: { host, port: 0 } }),
        { code: 'EADDRNOTAVAIL' },
      );
      const fd = socketInNetns(pair.a.path, {
        type: 'tcp',
        family,
        transparent: true,
        bind: { host, port: 0 },
      });
      assert.equal(getTransparent(fd, family), true);
      closeSync(fd);
    }
  });

  it('rejects a bad mark, a bad family and a closed fd clearly', () => {
    const fd = socketInNetns(pair.a.path, { type: 'udp', family: 4 });
    try {
      for (const mark of [-1, 2 ** 32, 1.5, Number.NaN, '1' as unknown as number]) {
        assert.throws(() => setMark(fd, mark), {
          name: 'TypeError',
          message: 'setMark: mark must be an integer from 0 to 0xffffffff',
        });
      }
      assert.throws(() => setTransparent(fd, true, 5 as 4), {
        name: 'TypeError',
        message: 'setTransparent: family must be 4 or 6',
      });
      assert.throws(() => setMark(1_000_000, 1), {
        code: 'EBADF',
        message: /^setMark\(fd 1000000\): setsockopt\(SO_MARK\) failed: EBADF/,
      });
    } finally {
      closeSync(fd);
    }
  });
});
