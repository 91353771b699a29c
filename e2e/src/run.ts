#!/usr/bin/env node
// `npm run e2e`: creates a cluster (local by default), installs Trellis with the CLI, deploys the
// sample (e2e/sample: a client and echo v1/v2 across 2 nodes; namespace e2e-mesh enrolled,
// e2e-plain not), probes what the cluster can do, runs the scenario suites in order, prints a
// summary (install time, mesh memory, each scenario's result) and deletes the cluster.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCluster, deleteCluster, kubectlFor } from '@trellis/local-cluster';
import { runnerArgv, runnerEnv } from './config.js';
import { probeCapabilities } from './harness/capabilities.js';
import { meshMemory } from './harness/memory.js';
import { parseRunnerArgs, RUNNER_HELP, type RunnerOptions } from './runner-args.pure.js';
import { summarizeTap, type TapSummary } from './tap.pure.js';
import { REPO, TRELLIS } from './harness/suite.js';

/** Scenario files in the order they run (uninstall last). */
export const SCENARIOS = [
  'install',
  'mtls',
  'policy',
  'enrollment',
  'resilience',
  'uninstall',
] as const;

async function main(): Promise<number> {
  let opts: RunnerOptions;
  try {
    opts = parseRunnerArgs(runnerArgv());
  } catch (e) {
    console.error(`e2e: ${(e as Error).message}\n\n${RUNNER_HELP}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(RUNNER_HELP);
    return 0;
  }
  if (opts.provider === 'kind')
    throw new Error(
      '--provider kind needs Docker and the images built from deploy/images, which this host lacks; use --provider local',
    );

  const cluster = opts.kubeconfig ? '' : `e2e${process.pid}`;
  const log = (l: string) => console.error(`e2e: ${l}`);
  let kubeconfig = opts.kubeconfig ?? '';
  if (cluster) {
    log(`creating local cluster ${cluster} (${opts.nodes} nodes)`);
    kubeconfig = (await createCluster({ name: cluster, nodes: opts.nodes, log: (l) => log(l) }))
      .kubeconfig;
  }
  const work = mkdtempSync(join(tmpdir(), `trellis-e2e-${process.pid}-`));
  try {
    const kubectl = kubectlFor(kubeconfig);
    const nodes = kubectl
      .getJson('nodes')
      .items.map((n: { metadata: { name: string } }) => n.metadata.name)
      .sort();
    if (nodes.length < 2)
      throw new Error(`the suites need 2 nodes, the cluster has ${nodes.length}`);
    nodes.forEach((n: string, i: number) =>
      kubectl.run(['label', 'node', n, `e2e.trellis.dev/slot=${i + 1}`, '--overwrite']),
    );

    log(`trellis install --profile ${opts.profile} (timeout ${opts.installTimeout})`);
    const started = Date.now();
    const install = spawnSync(
      process.execPath,
      [
        TRELLIS,
        'install',
        '--kubeconfig',
        kubeconfig,
        '--profile',
        opts.profile,
        '--timeout',
        opts.installTimeout,
      ],
      { stdio: 'inherit' },
    );
    const installSeconds = (Date.now() - started) / 1000;
    log(`trellis install exited ${install.status} after ${installSeconds.toFixed(1)}s`);

    log('deploying the sample (e2e/sample)');
    kubectl.run(['apply', '-f', join(REPO, 'e2e/sample')]);
    for (const ns of ['e2e-mesh', 'e2e-plain'])
      kubectl.run([
        'wait',
        '-n',
        ns,
        '--for=condition=Available',
        '--timeout=180s',
        'deployment',
        '--all',
      ]);
    const client = kubectl.getJson('pods', '-n', 'e2e-mesh', '-l', 'app=client').items[0]?.metadata
      .name;
    const caps = probeCapabilities(
      kubectl,
      client ? { namespace: 'e2e-mesh', name: client } : undefined,
    );
    log(`capabilities: ${caps.join(', ') || 'none'}`);
    const memory = cluster ? meshMemory(kubectl) : undefined;

    const results: { scenario: string; summary: TapSummary }[] = [];
    for (const name of SCENARIOS) {
      if (opts.only && !opts.only.test(name)) continue;
      const file = join(REPO, 'e2e/dist/scenarios', `${name}.e2e.js`);
      if (!existsSync(file)) throw new Error(`${file} is missing: build first (npx nx build e2e)`);
      const tap = join(work, `${name}.tap`);
      log(`scenario ${name}`);
      await runScenario(file, tap, {
        E2E_KUBECONFIG: kubeconfig,
        E2E_CLUSTER: cluster,
        E2E_CAPABILITIES: caps.join(','),
        E2E_PROFILE: opts.profile,
        E2E_INSTALL_EXIT: String(install.status),
        ...(opts.runPending ? { E2E_RUN_PENDING: '1' } : {}),
      });
      results.push({ scenario: name, summary: summarizeTap(readFileSync(tap, 'utf8')) });
    }

    console.log('\nTrellis e2e summary');
    console.log(`  cluster: ${cluster ? `local ${cluster}, ${nodes.length} nodes` : kubeconfig}`);
    console.log(
      `  install: exit ${install.status} in ${installSeconds.toFixed(1)}s (CLI start to every component Ready when exit 0)`,
    );
    if (memory) console.log(`  mesh memory (idle, resident): ${memory}`);
    console.log(`  capabilities: ${caps.join(', ') || 'none'}`);
    let failed = 0;
    for (const r of results) {
      const s = r.summary;
      failed += s.fail;
      console.log(
        `  ${r.scenario.padEnd(11)} ${s.pass} passed, ${s.fail} failed, ${s.skip} pending`,
      );
      for (const [reason, tests] of s.skipReasons) console.log(`      (${tests.length}) ${reason}`);
      for (const t of s.failed) console.log(`      FAILED: ${t}`);
    }
    return failed ? 1 : 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (cluster && !opts.keep) {
      log(`deleting cluster ${cluster}`);
      await deleteCluster(cluster, { quiet: true });
    } else if (cluster)
      log(
        `cluster ${cluster} kept: KUBECONFIG=${kubeconfig}; delete with trellis cluster delete --name ${cluster}`,
      );
  }
}

function runScenario(file: string, tap: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--test',
        '--test-concurrency=1',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tap}`,
        file,
      ],
      { stdio: 'inherit', env: { ...runnerEnv(), ...env, FORCE_COLOR: '' } },
    );
    child.on('close', (code) => resolve(code ?? 1));
  });
}

main().then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    console.error(`e2e: ${e.stack ?? e.message}`);
    process.exitCode = 1;
  },
);
