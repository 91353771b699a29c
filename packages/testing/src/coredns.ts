// Real CoreDNS (built by tools/setup.sh, see tools/coredns) inside a network namespace, serving a
// Corefile the test writes: an upstream resolver for DNS tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGoTool } from '@trellis/local-cluster';
import { eventually, Spawned, START_TIMEOUT_MS } from '@trellis/core/test-support';

export interface CoreDns {
  readonly proc: Spawned;
  stop(): Promise<void>;
}

/** Starts CoreDNS in `netns` with `corefile`; resolves once it serves. */
export async function startCoreDnsIn(netns: string, corefile: string): Promise<CoreDns> {
  const dir = mkdtempSync(join(tmpdir(), `trellis-coredns-${process.pid}-`));
  writeFileSync(join(dir, 'Corefile'), corefile);
  const proc = new Spawned(`coredns in ${netns}`, 'ip', [
    'netns',
    'exec',
    netns,
    join(builtGoTool('coredns'), 'coredns'),
    '-conf',
    join(dir, 'Corefile'),
  ]);
  const stop = async () => {
    await proc.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      'coredns to serve',
      () => (proc.lines.some((l) => /CoreDNS-/.test(l.msg ?? '')) ? true : undefined),
      {
        timeoutMs: START_TIMEOUT_MS,
        failFast: () => (proc.running ? undefined : proc.describe()),
        detail: () => proc.describe(),
      },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { proc, stop };
}
