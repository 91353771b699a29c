// The only module of the e2e suites that reads process.argv and process.env. The runner passes
// the cluster to the scenario processes in E2E_* variables.
import type { Capability } from './harness/capabilities.js';

export interface SuiteEnv {
  readonly kubeconfig: string;
  /** The name of the cluster the runner created; empty for an existing cluster. */
  readonly cluster: string;
  /** Where that cluster runs: local (netns nodes on this host) or kind (Docker containers). */
  readonly provider: 'local' | 'kind';
  readonly capabilities: ReadonlySet<Capability>;
  /** Run the tests whose capability is missing anyway (to see how they fail). */
  readonly runSkipped: boolean;
  /** The profile the runner installed. */
  readonly profile: 'default' | 'minimal';
  /** Exit code of the runner's `trellis install`. */
  readonly installExit: number;
}

export function suiteEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): SuiteEnv {
  const kubeconfig = env['E2E_KUBECONFIG'];
  if (!kubeconfig) throw new Error('E2E_KUBECONFIG is not set: run the suites with npm run e2e');
  return {
    kubeconfig,
    cluster: env['E2E_CLUSTER'] ?? '',
    provider: env['E2E_PROVIDER'] === 'kind' ? 'kind' : 'local',
    capabilities: new Set(
      (env['E2E_CAPABILITIES'] ?? '').split(',').filter(Boolean) as Capability[],
    ),
    runSkipped: env['E2E_RUN_SKIPPED'] === '1',
    profile: env['E2E_PROFILE'] === 'minimal' ? 'minimal' : 'default',
    installExit: Number(env['E2E_INSTALL_EXIT'] ?? -1),
  };
}

export function runnerArgv(): string[] {
  return process.argv.slice(2);
}

export function runnerEnv(): Readonly<Record<string, string | undefined>> {
  return { ...process.env };
}
