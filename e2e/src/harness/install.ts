// `trellis install` as a user runs it (the CLI as a process, its progress on this terminal), timed
// from the CLI's start to its exit (which is once every component is Ready, when it exits 0).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { providerInstallArgs } from '../runner-args.pure.js';
import { REPO, TRELLIS } from './suite.js';

/** Where the waypoints send their traces: the waypoint scenario's OTLP collector, behind a Service
 * it creates (the runner installs with `--set tracing.otlpEndpoint=` this, as a user names theirs). */
export const OTLP_COLLECTOR = {
  namespace: 'e2e-waypoint',
  service: 'otel-collector',
  port: 4317,
} as const;
export const OTLP_ENDPOINT = `http://${OTLP_COLLECTOR.service}.${OTLP_COLLECTOR.namespace}.svc.cluster.local:${OTLP_COLLECTOR.port}`;

/**
 * What the runner installs with beyond the profile: the waypoints' trace collector, the Gateway
 * API's experimental channel (HTTPRoute `retry`, GEP-1731, is not in the standard channel), and
 * the provider's settings (kind: the images loaded into the nodes, never pulled). The uninstall
 * scenario installs again with the same, so a kept or given cluster is left as the run set it up.
 */
export function runnerInstallArgs(provider: 'local' | 'kind'): string[] {
  return [
    '--set',
    `tracing.otlpEndpoint=${OTLP_ENDPOINT}`,
    '--gateway-api-crds',
    join(REPO, 'deploy/gateway-api/experimental-install-v1.6.1.yaml'),
    ...providerInstallArgs(provider),
  ];
}

export function trellisInstall(
  kubeconfig: string,
  profile: string,
  timeout: string,
  extra: readonly string[] = [],
): { status: number | null; seconds: number } {
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [
      TRELLIS,
      'install',
      '--kubeconfig',
      kubeconfig,
      '--profile',
      profile,
      '--timeout',
      timeout,
      ...extra,
    ],
    { stdio: 'inherit' },
  );
  return { status: r.status, seconds: (Date.now() - started) / 1000 };
}
