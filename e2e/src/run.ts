#!/usr/bin/env node
// `npm run e2e`: creates a cluster (local by default, or kind), installs Trellis with the CLI, deploys the
// sample (e2e/sample: a client and echo v1/v2 across 2 nodes; namespace e2e-mesh enrolled,
// e2e-plain not), probes what the cluster can do, runs the scenario suites in order, prints a
// summary (install time, mesh memory, each scenario's result) and deletes the cluster.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deleteKindCluster } from '@trellis/cli';
import { createCluster, deleteCluster, kubectlFor } from '@trellis/local-cluster';
import { runnerArgv, runnerEnv } from './config.js';
import { CAPABILITIES, MISSING, probeCapabilities } from './harness/capabilities.js';
import { runnerInstallArgs, trellisInstall } from './harness/install.js';
import { Interrupt } from './harness/interrupt.js';
import { createE2eKindCluster, untaintControlPlane } from './harness/kind.js';
import { meshMemory } from './harness/memory.js';
import { deploySample, labelNodeSlots } from './harness/sample.js';
import { parseRunnerArgs, RUNNER_HELP, type RunnerOptions } from './runner-args.pure.js';
import { summarizeTap, type TapSummary } from './tap.pure.js';
import { REPO } from './harness/suite.js';

/** Where the TAP of every scenario goes, for npm test's closing summary (tools/test-summary.mjs). */
const RESULTS_TAP = join(REPO, 'e2e/.test-results/scenarios.tap');

/** Scenario files in the order they run (uninstall last). */
export const SCENARIOS = [
  'install',
  'mtls',
  'policy',
  'enrollment',
  'resilience',
  'waypoint',
  'ingress',
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
  const kind = opts.provider === 'kind';
  const cluster = opts.kubeconfig ? '' : `e2e${process.pid}`;
  const log = (l: string) => console.error(`e2e: ${l}`);
  mkdirSync(dirname(RESULTS_TAP), { recursive: true });
  if (cluster && !kind && process.getuid?.() !== 0) {
    // As the root-only package tests do: skipped, and counted as skipped by npm test's summary.
    const why = 'needs root: the local cluster uses network namespaces, mounts and iptables';
    writeFileSync(RESULTS_TAP, `ok 1 - e2e suites # SKIP ${why}\n1..1\n# tests 1\n# skipped 1\n`);
    log(`skipped: ${why} (or pass --kubeconfig FILE for an existing cluster)`);
    return 0;
  }
  let kubeconfig = opts.kubeconfig ?? '';
  const interrupt = new Interrupt(cluster || undefined, log, opts.provider);
  const runStarted = Date.now();
  const work = mkdtempSync(join(tmpdir(), `trellis-e2e-${process.pid}-`));
  try {
    if (cluster) {
      log(`creating ${opts.provider} cluster ${cluster} (${opts.nodes} nodes)`);
      kubeconfig = kind
        ? await createE2eKindCluster(cluster, opts.nodes, log)
        : (await createCluster({ name: cluster, nodes: opts.nodes, log: (l) => log(l) }))
            .kubeconfig;
    }
    interrupt.check();
    const kubectl = kubectlFor(kubeconfig);
    if (kind && cluster) untaintControlPlane(kubectl);
    const nodes = labelNodeSlots(kubectl);

    const installArgs = runnerInstallArgs(opts.provider);
    log(
      `trellis install --profile ${opts.profile} ${installArgs.join(' ')} (timeout ${opts.installTimeout})`,
    );
    const install = trellisInstall(kubeconfig, opts.profile, opts.installTimeout, installArgs);
    const installSeconds = install.seconds;
    log(`trellis install exited ${install.status} after ${installSeconds.toFixed(1)}s`);

    interrupt.check();
    log('deploying the sample (e2e/sample)');
    deploySample(kubectl);
    const client = kubectl.getJson('pods', '-n', 'e2e-mesh', '-l', 'app=client').items[0]?.metadata
      .name;
    const caps = probeCapabilities(
      kubectl,
      client ? { namespace: 'e2e-mesh', name: client } : undefined,
    );
    log(`capabilities: ${caps.join(', ') || 'none'}`);
    // Resident memory is read from the host's processes: local clusters only.
    const memory = cluster && !kind ? meshMemory(kubectl) : undefined;

    const results: { scenario: string; tap: string; summary: TapSummary; seconds: number }[] = [];
    for (const name of SCENARIOS) {
      if (opts.only && !opts.only.test(name)) continue;
      interrupt.check();
      const file = join(REPO, 'e2e/dist/scenarios', `${name}.e2e.js`);
      if (!existsSync(file)) throw new Error(`${file} is missing: build first (npx nx build e2e)`);
      const tap = join(work, `${name}.tap`);
      log(`scenario ${name}`);
      const started = Date.now();
      await runScenario(file, tap, {
        E2E_KUBECONFIG: kubeconfig,
        E2E_CLUSTER: cluster,
        E2E_PROVIDER: opts.provider,
        E2E_CAPABILITIES: caps.join(','),
        E2E_PROFILE: opts.profile,
        E2E_INSTALL_EXIT: String(install.status),
        ...(opts.runSkipped ? { E2E_RUN_SKIPPED: '1' } : {}),
      });
      const text = readFileSync(tap, 'utf8');
      results.push({
        scenario: name,
        tap: text,
        summary: summarizeTap(text),
        seconds: (Date.now() - started) / 1000,
      });
    }

    console.log('\nTrellis e2e summary');
    console.log(
      `  cluster: ${cluster ? `${opts.provider} ${cluster}, ${nodes.length} nodes` : kubeconfig}`,
    );
    console.log(
      `  install: exit ${install.status} in ${installSeconds.toFixed(1)}s (CLI start to every component Ready when exit 0)`,
    );
    if (memory) console.log(`  mesh memory (idle, resident): ${memory}`);
    console.log(`  capabilities: ${caps.join(', ') || 'none'}`);
    // Missing capabilities fail the run (the node components only with profile default): their
    // tests were skipped, and a skipped test is never a passed one.
    const required = CAPABILITIES.filter(
      (c) => opts.profile === 'default' || c === 'exec' || c === 'dns',
    );
    const missing = required.filter((c) => !caps.includes(c));
    for (const c of missing) console.log(`  MISSING: ${MISSING[c]}`);
    writeFileSync(
      RESULTS_TAP,
      results.map((r) => r.tap).join('\n') +
        missing
          .map((c, i) => `not ok ${i + 1} - capability ${c}: ${MISSING[c]}\n# tests 1\n# fail 1\n`)
          .join(''),
    );
    let failed = missing.length;
    for (const r of results) {
      const s = r.summary;
      failed += s.fail;
      console.log(
        `  ${r.scenario.padEnd(11)} ${s.pass} passed, ${s.fail} failed, ${s.skip} skipped (${r.seconds.toFixed(1)}s)`,
      );
      for (const [reason, tests] of s.skipReasons) console.log(`      (${tests.length}) ${reason}`);
      for (const t of s.failed) console.log(`      FAILED: ${t}`);
    }
    console.log(
      `  run: ${((Date.now() - runStarted) / 1000).toFixed(1)}s (cluster creation to summary)`,
    );
    return failed ? 1 : 0;
  } finally {
    interrupt.dispose();
    rmSync(work, { recursive: true, force: true });
    if (cluster && !opts.keep) {
      log(`deleting ${opts.provider} cluster ${cluster}`);
      if (kind) await deleteKindCluster(cluster, log);
      else await deleteCluster(cluster, { quiet: true });
    } else if (cluster)
      log(
        `cluster ${cluster} kept: KUBECONFIG=${kubeconfig}; delete with trellis cluster delete${kind ? ' --provider kind' : ''} --name ${cluster}`,
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
