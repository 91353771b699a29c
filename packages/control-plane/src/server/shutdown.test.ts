// SIGTERM on the real binary with clients that hold its gRPC ports without ever finishing a
// handshake: a TCP connection to the secure port (15012) that never sends a TLS hello, one to the
// plaintext port that never sends the HTTP/2 preface, and a live xDS stream. The process exits 0
// at the drain deadline, and a restart binds the same ports.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import { startControlPlaneProcess } from './test-support/control-plane-process.js';
import { wdsClient } from './test-support/wds-client.js';

const TESTDATA = fileURLToPath(new URL('../../testdata/', import.meta.url));

/** Connects and never sends a byte; `closed` resolves when the server closed the connection. */
async function silentClient(port: number): Promise<{ closed: Promise<unknown> }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => {});
  socket.resume(); // reads (and drops) what the server sends, so its FIN is seen
  return { closed: once(socket, 'close') };
}

test(
  'SIGTERM with clients that never finish a handshake: exit at the drain deadline, restart on the same ports',
  { timeout: 120_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-shutdown-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'config'));
    writeFileSync(
      join(dir, 'config', 'mesh.yaml'),
      readFileSync(join(TESTDATA, 'authz-allow.in.yaml')),
    );
    writeFileSync(
      join(dir, 'tokens.yaml'),
      JSON.stringify([{ token: 't', namespace: 'istio-system', serviceAccount: 'ztunnel' }]),
    );
    const args = (xds: number, secure: number) => [
      `--config-dir=${join(dir, 'config')}`,
      `--ca-dir=${join(dir, 'ca')}`,
      `--static-tokens=${join(dir, 'tokens.yaml')}`,
      `--secure-xds-address=127.0.0.1:${secure}`,
      `--xds-address=127.0.0.1:${xds}`,
      '--debug-address=off',
      '--drain=300ms',
    ];
    const first = await startControlPlaneProcess(args(0, 0));
    t.after(() => first.child.kill('SIGKILL'));
    const { xds, secureXds } = first.ports;
    const client = wdsClient(`127.0.0.1:${xds}`, credentials.createInsecure());
    t.after(() => client.close());
    const silent = [await silentClient(secureXds!), await silentClient(xds!)];

    first.child.kill('SIGTERM');
    const code = await Promise.race([
      once(first.child, 'exit').then(([c]) => c as number | null),
      new Promise<string>((r) => setTimeout(() => r('still running 10 s after SIGTERM'), 10_000)),
    ]);
    assert.equal(code, 0, first.stderr());
    await Promise.all(silent.map((c) => c.closed));
    const messages = first.logs.map((l) => l.msg);
    assert.ok(messages.includes('shutdown complete'));
    assert.ok(
      !messages.some((m) => m?.startsWith('shutdown hook still running')),
      'every step ended by the deadline',
    );

    const second = await startControlPlaneProcess(args(xds!, secureXds!));
    t.after(() => second.child.kill('SIGKILL'));
    assert.deepEqual([second.ports.xds, second.ports.secureXds], [xds, secureXds]);
    assert.equal(await second.stop(), 0);
  },
);
