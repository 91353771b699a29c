// exec with a TTY: the client's first size is the terminal's from the start, and a resize sent
// right behind it wins even when the shell that applies the first size is slow (a loaded machine).
// The "container" is a sleep in this process's own namespaces whose PATH puts a slow stty first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ResizeQueue } from '../streaming/remote-command.js';
import { execInContainer } from './container-exec.js';

async function ttyExec(pid: number, sizes: [number, number][], script: string): Promise<string> {
  const resizes = new ResizeQueue();
  for (const [width, height] of sizes) resizes.push({ width, height });
  const stdout = new PassThrough();
  let out = '';
  stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const outcome = await execInContainer(pid, ['sh', '-c', script], {
    stdout,
    tty: true,
    resizes,
    signal: new AbortController().signal,
  });
  assert.deepEqual(outcome, { exitCode: 0 }, out);
  return out.replaceAll('\r', '').trim();
}

test(
  'exec -t: the first size from the start; a resize right behind it is not undone by it',
  { skip: process.getuid?.() !== 0 && 'needs root (nsenter)' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-slow-stty-'));
    writeFileSync(join(dir, 'stty'), '#!/bin/sh\nsleep 1\nexec /usr/bin/stty "$@"\n');
    chmodSync(join(dir, 'stty'), 0o755);
    const container = spawn('sleep', ['60'], {
      env: { PATH: `${dir}:/usr/sbin:/usr/bin:/sbin:/bin` },
      stdio: 'ignore',
    });
    t.after(() => {
      container.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    assert.equal(await ttyExec(container.pid!, [[100, 30]], 'stty size'), '30 100');
    assert.equal(
      await ttyExec(
        container.pid!,
        [
          [100, 30],
          [120, 40],
        ],
        'sleep 1; stty size',
      ),
      '40 120',
    );
  },
);
