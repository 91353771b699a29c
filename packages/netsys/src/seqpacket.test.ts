import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rootOnly } from '@trellis/core/test-support';
import { listenInNetns } from './netns-sockets.js';
import { SeqpacketClient } from './seqpacket-client.js';
import { SeqpacketServer } from './seqpacket-server.js';
import { seqpacketAccept, seqpacketListen, type SeqpacketMessage } from './seqpacket.js';
import { createNetnsPair, readFromInside, type NetnsPair } from './test-support/netns-fixture.js';

/** Resolves with the next `count` messages of `client`. */
function messages(client: SeqpacketClient, count: number): Promise<SeqpacketMessage[]> {
  return new Promise((resolve) => {
    const seen: SeqpacketMessage[] = [];
    const onMessage = (m: SeqpacketMessage) => {
      seen.push(m);
      if (seen.length === count) {
        client.off('message', onMessage);
        resolve(seen);
      }
    };
    client.on('message', onMessage);
  });
}

describe('SOCK_SEQPACKET with fd passing', rootOnly('network namespaces'), () => {
  let pair: NetnsPair;
  let dir: string;
  let n = 0;
  const socketPath = () => join(dir, `zds-${n++}.sock`);

  before(async () => {
    pair = await createNetnsPair();
    dir = mkdtempSync(join(tmpdir(), 'netsys-seqpacket-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await pair.destroy();
  });

  it('the server sends netns fds with a message; the client gets working fds of the same namespaces', async () => {
    const server = SeqpacketServer.listen(socketPath());
    server.on('connection', (peer) => {
      const a = openSync(pair.a.path, 'r');
      const b = openSync(pair.b.path, 'r');
      void peer.send(Buffer.from('AddWorkload'), [a, b]).finally(() => {
        closeSync(a);
        closeSync(b);
      });
    });
    const client = SeqpacketClient.connect(server.path);
    const [message] = await messages(client, 1);
    assert.equal(message!.data.toString(), 'AddWorkload');
    assert.equal(message!.fds.length, 2);
    const [fdA, fdB] = message!.fds as [number, number];
    assert.equal(fstatSync(fdA).ino, statSync(pair.a.path).ino);
    assert.equal(fstatSync(fdB).ino, statSync(pair.b.path).ino);

    // The received fd is usable: a listener created through it is reached from inside A.
    const listener = net.createServer((c) => c.end('via the received fd'));
    await listenInNetns(listener, fdA, { host: pair.a.ipv4, port: 0 });
    const { port } = listener.address() as net.AddressInfo;
    assert.equal(await readFromInside(pair.a, pair.a.ipv4, port), 'via the received fd');
    listener.close();
    closeSync(fdA);
    closeSync(fdB);
    client.close();
    server.close();
  });

  it('keeps packet boundaries in both directions', async () => {
    const server = SeqpacketServer.listen(socketPath());
    const accepted = once(server, 'connection') as Promise<[SeqpacketClient]>;
    const client = SeqpacketClient.connect(server.path);
    const [peer] = await accepted;
    const atServer = messages(peer, 3);
    await Promise.all(['a', 'bb', 'ccc'].map((s) => client.send(Buffer.from(s))));
    assert.deepEqual(
      (await atServer).map((m) => [m.data.toString(), m.fds]),
      [
        ['a', []],
        ['bb', []],
        ['ccc', []],
      ],
    );
    const atClient = messages(client, 2);
    await peer.send(Buffer.from('ack 1'));
    await peer.send(new Uint8Array([1, 2, 3]));
    assert.deepEqual(
      (await atClient).map((m) => [...m.data]),
      [[...Buffer.from('ack 1')], [1, 2, 3]],
    );
    client.close();
    peer.close();
    server.close();
  });

  it('send() waits while the peer does not read, then delivers every packet in order', async () => {
    const path = socketPath();
    const listenFd = seqpacketListen(path);
    const client = SeqpacketClient.connect(path);
    const acceptedFd = seqpacketAccept(listenFd);
    assert.ok(acceptedFd !== null);
    const count = 256;
    let sent = 0;
    const sends = Array.from({ length: count }, (_, i) =>
      client.send(Buffer.alloc(16384, i % 256)).then(() => void sent++),
    );
    // 4 MiB cannot fit in the socket buffers of an unread connection.
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(sent < count, `only part was sent before the peer read (sent ${sent})`);

    const peer = new SeqpacketClient(acceptedFd);
    const received = await messages(peer, count);
    await Promise.all(sends);
    assert.deepEqual(
      received.map((m) => [m.data.length, m.data[0]]),
      Array.from({ length: count }, (_, i) => [16384, i % 256]),
    );
    client.close();
    peer.close();
    closeSync(listenFd);
  });

  it('emits close when the peer closes, and refuses sends afterwards', async () => {
    const server = SeqpacketServer.listen(socketPath());
    const accepted = once(server, 'connection') as Promise<[SeqpacketClient]>;
    const client = SeqpacketClient.connect(server.path);
    const [peer] = await accepted;
    const closed = once(client, 'close');
    peer.close();
    await closed;
    assert.equal(client.closed, true);
    await assert.rejects(client.send(Buffer.from('late')), /SeqpacketClient: the socket is closed/);
    server.close();
  });

  it('refuses an empty packet, which would read as end of stream', async () => {
    const server = SeqpacketServer.listen(socketPath());
    const client = SeqpacketClient.connect(server.path);
    await assert.rejects(client.send(Buffer.alloc(0)), {
      name: 'TypeError',
      message: /an empty packet cannot be told from end of stream/,
    });
    client.close();
    server.close();
  });

  it('fails clearly to connect to a missing path or a stale socket file, and close() removes the file', () => {
    const missing = join(dir, 'missing.sock');
    assert.throws(() => SeqpacketClient.connect(missing), {
      code: 'ENOENT',
      message: `seqpacketConnect(${missing}): connect failed: ENOENT (No such file or directory)`,
    });
    const server = SeqpacketServer.listen(socketPath());
    assert.ok(existsSync(server.path));
    server.close();
    assert.equal(existsSync(server.path), false);
    const notSocket = join(dir, 'plain-file');
    writeFileSync(notSocket, '');
    assert.throws(() => SeqpacketClient.connect(notSocket), { code: 'ECONNREFUSED' });
    assert.throws(() => SeqpacketServer.listen(notSocket), {
      code: 'EADDRINUSE',
      message: /seqpacketListen\(.*plain-file\): bind failed: EADDRINUSE/,
    });
  });
});
