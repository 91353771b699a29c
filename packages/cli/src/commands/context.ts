// What a command handler gets: its parsed invocation, output streams, the environment, and a
// lazily connected Kubernetes client built from --kubeconfig/--context.
import type { Invocation } from '../cli/command-spec.js';
import type { Kube } from '../kube/kube.js';
import type { Output } from '../output/format.pure.js';

export interface Context {
  readonly inv: Invocation;
  /** Results (stdout). */
  readonly out: (text: string) => void;
  /** Progress and diagnostics (stderr), one line each. */
  readonly log: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The cluster of --kubeconfig/--context (loads the client and connects on first use). */
  kube(): Promise<Kube>;
  /** -o/--output of commands that print objects. */
  output(): Output;
  flag<T>(name: string): T;
}

export type Handler = (ctx: Context) => Promise<number>;

export function createContext(
  inv: Invocation,
  env: Readonly<Record<string, string | undefined>>,
  streams: { out: (text: string) => void; log: (line: string) => void },
): Context {
  let kube: Kube | undefined;
  return {
    inv,
    out: streams.out,
    log: streams.log,
    env,
    async kube() {
      const { Kube } = await import('../kube/kube.js');
      kube ??= Kube.connect(
        {
          ...(inv.flags['kubeconfig'] !== undefined
            ? { kubeconfig: inv.flags['kubeconfig'] as string }
            : {}),
          ...(inv.flags['context'] !== undefined
            ? { context: inv.flags['context'] as string }
            : {}),
        },
        env,
      );
      return kube;
    },
    output: () => (inv.flags['output'] as Output | undefined) ?? 'table',
    flag: <T>(name: string) => inv.flags[name] as T,
  };
}
