// Formats benchmark results as the text of bench-results.txt.
import type { ScenarioResult, StepResult } from './scenario.js';

export interface Machine {
  readonly date: string;
  readonly node: string;
  readonly cpu: string;
}

/** Nearest-rank percentile (with 20 samples p99 is the largest). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

export function formatResults(results: readonly ScenarioResult[], machine: Machine): string {
  const lines = [
    '@trellis/control-plane scale benchmark (npm run bench -w @trellis/control-plane)',
    `date: ${machine.date}`,
    `machine: ${machine.cpu}; a shared machine (2 cores, other work running), so expect noise; node ${machine.node}`,
    'setup: real pipeline (incremental MeshState -> translateState -> packWds -> xds.update) and xDS server with',
    '  controlPlaneGenerators() on 127.0.0.1; 100 delta clients (createDeltaClient, Address + Authorization',
    '  wildcard) in 2 child processes, so server CPU is measured apart from the clients; debounce bypassed',
    '  with xds.flush() after each apply (production adds --debounce-quiet, 100 ms, before each push).',
    'change: one pod per step, readiness flip (even steps) or IP change (odd), its EndpointSlice updated too;',
    '  the next step starts once the server saw all 100 ACKs. latency = pipeline.apply to the last ACK seen',
    '  by the server (xds.debug(), polled every 1 ms once all clients reported the change over IPC).',
    'percentiles: nearest rank over the 20 changes (p99 = the slowest).',
    '',
  ];
  for (const r of results) lines.push(...scenario(r), '');
  return lines.join('\n');
}

function scenario(r: ScenarioResult): string[] {
  const { pods, services, clients, steps } = r.options;
  const s = r.steps;
  const values = (name: string, v: readonly number[]) =>
    `  ${name.padEnd(44)} p50 ${ms(percentile(v, 50))}  p99 ${ms(percentile(v, 99))}  mean ${ms(v.reduce((a, b) => a + b, 0) / v.length)}`;
  const stat = (name: string, pick: (x: StepResult) => number) => values(name, s.map(pick));
  const addrMin = Math.min(...s.map((x) => x.addressesMin));
  const addrMax = Math.max(...s.map((x) => x.addressesMax));
  const authz = s.reduce((a, x) => a + x.authorizationResponses, 0);
  const byChange = (c: string) => s.filter((x) => x.change === c).map((x) => x.allAckedMs);
  return [
    `== ${pods} pods, ${services} services, ${clients} clients, ${steps} changes`,
    `  served: ${r.workloads} workloads, ${r.addresses} Address resources (workloads + services), ${r.authorizations} Authorization`,
    `  build synthetic snapshot ${ms(r.buildClusterMs)}; first pipeline.apply ${ms(r.firstApplyMs)}`,
    `  initial full sync of all ${clients} clients: ${ms(r.initialSyncMs)} wall, server CPU ${ms(r.initialSyncCpuMs)}`,
    `  per change:`,
    stat('pod change -> all clients ACKed', (x) => x.allAckedMs),
    `  ${''.padEnd(44)} readiness p50 ${ms(percentile(byChange('readiness'), 50))}, IP p50 ${ms(percentile(byChange('ip'), 50))}`,
    stat('pod change -> last client callback (IPC)', (x) => x.lastClientMs),
    stat('pipeline.apply + flush (sync part)', (x) => x.applyMs),
    stat('server CPU, apply to all ACKed', (x) => x.cpuMs),
    `  Address resources per client per change:    min ${addrMin}, max ${addrMax} (1 = incremental)`,
    `  Authorization responses during changes:     ${authz}`,
    stat('admitSnapshot before apply (ingest checks)', (x) => x.admitMs),
    `  pipeline stages during apply, per change:`,
    stat('  MeshState (incremental derivation)', (x) => x.deriveMs),
    stat('  translateState', (x) => x.translateMs),
    stat('  packWds + changedWdsTypes', (x) => x.packMs),
    stat('  withRoutes + Envoy sets (none asked for)', (x) => x.envoyStateMs),
    values('  full deriveMeshState (final, after steps)', r.fullDeriveMs),
    `  server memory after initial sync (after gc): RSS ${mb(r.serverAfterSync.rssMiB)}, heap used ${mb(r.serverAfterSync.heapUsedMiB)}`,
    `  server memory after the changes (after gc):  RSS ${mb(r.serverAfterSteps.rssMiB)}, heap used ${mb(r.serverAfterSteps.heapUsedMiB)}`,
    `  client processes (${r.clientProcesses.length} x ${clients / r.clientProcesses.length} clients): ` +
      r.clientProcesses.map((m) => `RSS ${mb(m.rssMiB)} heap ${mb(m.heapUsedMiB)}`).join('; '),
  ];
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const mb = (v: number) => `${v.toFixed(0)} MiB`;
