// Test support: the real trellis-ztunnel binary in all-workloads mode on loopback, with a
// --local-config and a CA from loopback-mesh.ts; started when it says so (its readiness log line).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Spawned } from '@trellis/core/test-support';
import type { TestCa } from './loopback-mesh.js';

const MAIN = fileURLToPath(new URL('../../main.js', import.meta.url));

export interface SpawnedZtunnel {
  readonly proc: Spawned;
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
 * node 2's ztunnel (identity istio-system/ztunnel), plus `args`; killed after the test.
 */
export async function spawnAllWorkloadsZtunnel(
  t: { after(fn: () => unknown): void },
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
  const proc = new Spawned('trellis-ztunnel', process.execPath, [
    MAIN,
    ...['--proxy-mode', 'all-workloads', '--local-config', join(dir, 'local.yaml')],
    ...['--ca-address', ca.address, '--ca-root-cert', join(dir, 'root.pem')],
    ...['--token-path', join(dir, 'token')],
    ...['--inbound-address', `${o.inboundHost}:0`, '--outbound-address', '127.0.0.1:0'],
    ...['--inbound-plaintext-address', '127.0.0.1:0', '--admin-address', '127.0.0.1:0'],
    ...['--metrics-address', '127.0.0.1:0', '--readiness-address', '127.0.0.1:0'],
    ...(o.args ?? []),
  ]);
  t.after(() => proc.stop('SIGKILL'));
  const line = (msg: string) => proc.waitForLine(`"${msg}"`, (l) => l.msg === msg);
  const started = (await line('trellis-ztunnel started')) as unknown as {
    adminPort: number;
    metricsPort: number;
    readinessPort: number;
    workers?: number[];
  };
  const { ports } = (await line('all-workloads proxies listening')) as unknown as {
    ports: SpawnedZtunnel['ports'];
  };
  return { proc, ...started, ports };
}
