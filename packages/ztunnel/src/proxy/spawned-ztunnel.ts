// Test support: the real trellis-ztunnel binary in all-workloads mode on loopback, with a
// --local-config and a CA from proxy/test-support.ts; its JSON log lines collected, waits bounded.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { TestCa } from './test-support.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

/** Polls `fn` until it returns something truthy, for up to 30 s (a spawned process on a busy machine). */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface SpawnedZtunnel {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly exited: Promise<number | null>;
  readonly lines: Record<string, unknown>[];
  /** The first log line with this message (fails when ztunnel exits first). */
  line(msg: string): Promise<Record<string, unknown>>;
  readonly adminPort: number;
  readonly metricsPort: number;
  readonly readinessPort: number;
  readonly workers?: number[];
  /** Listener ports of the all-workloads set. */
  readonly ports: { outbound: number; inbound: number; inboundPlaintext: number };
}

/**
 * Starts trellis-ztunnel --proxy-mode all-workloads with `localConfig` as its --local-config, its
 * inbound HBONE listener on `inboundHost`, everything else on 127.0.0.1 (port 0), the token of
 * node 2's ztunnel (identity istio-system/ztunnel), plus `args`.
 */
export async function spawnAllWorkloadsZtunnel(
  t: { after(fn: () => void): void },
  ca: TestCa,
  o: { localConfig: string; inboundHost: string; args?: readonly string[] },
): Promise<SpawnedZtunnel> {
  const dir = mkdtempSync(join(tmpdir(), 'ztunnel-spawned-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of [
    ['local.yaml', o.localConfig],
    ['root.pem', ca.rootPem],
    ['token', 'tok-zt2'],
  ] as const)
    writeFileSync(join(dir, name), text);
  const child = spawn(
    process.execPath,
    [
      MAIN,
      ...['--proxy-mode', 'all-workloads', '--local-config', join(dir, 'local.yaml')],
      ...['--ca-address', ca.address, '--ca-root-cert', join(dir, 'root.pem')],
      ...['--token-path', join(dir, 'token')],
      ...['--inbound-address', `${o.inboundHost}:0`, '--outbound-address', '127.0.0.1:0'],
      ...['--inbound-plaintext-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0'],
      ...['--metrics-address', '127.0.0.1:0', '--readiness-address', '127.0.0.1:0'],
      ...(o.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.after(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on('line', (l) =>
    lines.push(JSON.parse(l) as Record<string, unknown>),
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = (msg: string) =>
    waitFor(
      () =>
        lines.find((l) => l.msg === msg) ??
        (child.exitCode !== null ? assert.fail(stderr) : undefined),
      msg,
    );
  const started = (await line('trellis-ztunnel started')) as {
    adminPort: number;
    metricsPort: number;
    readinessPort: number;
    workers?: number[];
  };
  const { ports } = (await line('all-workloads proxies listening')) as {
    ports: SpawnedZtunnel['ports'];
  };
  return { child, exited, lines, line, ...started, ports };
}
