// The real kubectl, bound to one kubeconfig: for tests and tools that drive a local cluster.
import { execFileSync } from 'node:child_process';
import { requireKubeBinaries, kubeBinDir } from './paths.js';

// Objects as kubectl prints them: plain JSON of any kind.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KubeObject = any;

export interface Kubectl {
  /** Runs kubectl with these arguments (and stdin); returns stdout, throws with stderr on failure. */
  run(args: readonly string[], input?: string): string;
  /** `kubectl apply` of these objects. */
  apply(objects: readonly KubeObject[]): string;
  /** `kubectl get -o json ...`. */
  getJson(...args: string[]): KubeObject;
  /** Like getJson, but undefined when the object does not exist (or kubectl fails). */
  tryGet(...args: string[]): KubeObject | undefined;
}

export function kubectlFor(
  kubeconfig: string,
  bin = `${requireKubeBinaries(kubeBinDir())}/kubectl`,
): Kubectl {
  const run = (args: readonly string[], input?: string): string =>
    execFileSync(bin, [`--kubeconfig=${kubeconfig}`, ...args], {
      encoding: 'utf8',
      stdio: 'pipe',
      ...(input !== undefined ? { input } : {}),
    });
  const getJson = (...args: string[]): KubeObject =>
    JSON.parse(run(['get', '-o', 'json', ...args]));
  return {
    run,
    apply: (objects) =>
      run(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects })),
    getJson,
    tryGet: (...args) => {
      try {
        return getJson(...args);
      } catch {
        return undefined;
      }
    },
  };
}
