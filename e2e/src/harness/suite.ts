// What every scenario file uses: the cluster (kubeconfig, kubectl, the trellis CLI as a process),
// and `needs(...)`, which turns missing capabilities into a skip that says what is missing.
import { fileURLToPath } from 'node:url';
import { kubectlFor, run, type Kubectl } from '@trellis/local-cluster';
import { suiteEnv } from '../config.js';
import { MISSING, type Capability } from './capabilities.js';
import type { ClusterRef } from './nodes.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const TRELLIS = fileURLToPath(
  new URL('../../../packages/cli/bin/trellis.js', import.meta.url),
);

export interface Suite {
  readonly kubeconfig: string;
  readonly cluster: string;
  /** The created cluster and its provider, for reading its nodes (harness/nodes.ts). */
  readonly ref: ClusterRef;
  readonly kubectl: Kubectl;
  readonly profile: 'default' | 'minimal';
  readonly installExit: number;
  /** Test options: skip with the reason when a needed capability is missing. */
  needs(...caps: Capability[]): { skip?: string };
  /** Runs `trellis ARGS --kubeconfig <cluster>`. */
  trellis(...args: string[]): Promise<CliRun>;
}

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function suite(): Suite {
  const env = suiteEnv();
  const kubectl = kubectlFor(env.kubeconfig);
  return {
    kubeconfig: env.kubeconfig,
    cluster: env.cluster,
    ref: { provider: env.provider, cluster: env.cluster },
    kubectl,
    profile: env.profile,
    installExit: env.installExit,
    needs(...caps) {
      const missing = caps.filter((c) => !env.capabilities.has(c));
      if (missing.length === 0 || env.runSkipped) return {};
      return { skip: `missing: ${missing.map((c) => MISSING[c]).join('; ')}` };
    },
    trellis: (...args) => runCli(args, env.kubeconfig),
  };
}

async function runCli(args: readonly string[], kubeconfig: string): Promise<CliRun> {
  const r = await run(process.execPath, [TRELLIS, ...args, '--kubeconfig', kubeconfig], {
    allowFailure: true,
  });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}
