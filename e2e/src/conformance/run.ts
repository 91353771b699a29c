#!/usr/bin/env node
// `npm run conformance`: the upstream Gateway API conformance suite against Trellis. Builds the
// suite's test binary (tools/conformance, cached), creates a local cluster (or uses --kubeconfig),
// installs Trellis with the CLI (experimental Gateway API channel), deploys the shared waypoint the
// mesh namespaces use, runs the suite with the profiles that can run here and the features Trellis
// declares, writes the ConformanceReport, prints a per-profile summary and deletes the cluster.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { MESH_SUPPORTED_FEATURES } from '@trellis/control-plane/model';
import {
  createCluster,
  deleteCluster,
  kubectlFor,
  parseLbRange,
  requestableAddresses,
  type Kubectl,
} from '@trellis/local-cluster';
import { runnerArgv } from '../config.js';
import { trellisInstall } from '../harness/install.js';
import { Interrupt } from '../harness/interrupt.js';
import { REPO } from '../harness/suite.js';
import { CONFORMANCE_HELP, parseConformanceArgs, type ConformanceOptions } from './args.pure.js';
import {
  backendNamespaceObjects,
  CONFORMANCE_WAYPOINT,
  conformanceWaypoint,
  GATEWAY_BACKEND_NAMESPACES,
  planRun,
  suiteArgs,
} from './plan.pure.js';
import { failedCount, parseReport, reportPath, summaryLines } from './report.pure.js';
import { UNSUPPORTED_TESTS } from './unsupported.js';

const GATEWAY_API_CRDS = join(REPO, 'deploy/gateway-api/experimental-install-v1.6.1.yaml');
/** The suite's whole output of the last run, beside the report. */
const LOG_FILE = join(REPO, 'e2e/.test-results/conformance.log');
/** The report of a partial run (--run-test, --core-only), which is not one to publish. */
const PARTIAL_REPORT = join(REPO, 'e2e/.test-results/conformance-report.yaml');

const log = (l: string) => console.error(`conformance: ${l}`);

/** Builds the suite's test binary when missing (tools/go-tool.sh); returns its path. */
function suiteBinary(): string {
  const tool = join(REPO, 'tools/go-tool.sh');
  const dir = join(REPO, 'tools/conformance');
  const built = spawnSync('bash', [tool, dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0) throw new Error(`building the suite failed: bash ${tool} ${dir}`);
  const binDir = spawnSync('bash', [tool, dir, '--print-bin-dir'], { encoding: 'utf8' });
  return join(binDir.stdout.trim(), 'conformance.test');
}

/** The Gateway API bundle version the installed CRDs carry (what the suite reports). */
function installedGatewayApiVersion(kubectl: Kubectl): string {
  const crd = kubectl.tryGet('crd', 'httproutes.gateway.networking.k8s.io');
  const v = crd?.metadata?.annotations?.['gateway.networking.k8s.io/bundle-version'];
  if (!v)
    throw new Error('the Gateway API CRDs are not installed (no bundle-version on httproutes)');
  return v;
}

function deployWaypoint(kubectl: Kubectl): void {
  const { namespace, name } = CONFORMANCE_WAYPOINT;
  log(`deploying the shared waypoint ${namespace}/${name}`);
  kubectl.apply(conformanceWaypoint());
  kubectl.run([
    'wait',
    '-n',
    namespace,
    `gateway/${name}`,
    '--for=condition=Programmed',
    '--timeout=120s',
  ]);
  kubectl.run(['rollout', 'status', '-n', namespace, `deployment/${name}`, '--timeout=180s']);
}

/** The suite's own base manifests, from the Go module cache of tools/conformance. */
function suiteBaseManifests(): string {
  const dir = spawnSync(
    'go',
    ['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/gateway-api/conformance'],
    {
      cwd: join(REPO, 'tools/conformance'),
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: '-mod=mod' },
    },
  );
  if (dir.status !== 0 || !dir.stdout.trim())
    throw new Error(`cannot find the suite's module: ${dir.stderr.trim()}`);
  return readFileSync(join(dir.stdout.trim(), 'base/manifests.yaml'), 'utf8');
}

function runSuite(binary: string, args: string[], kubeconfig: string): Promise<number> {
  mkdirSync(dirname(LOG_FILE), { recursive: true });
  const out = createWriteStream(LOG_FILE);
  return new Promise((done) => {
    const child = spawn(binary, args, {
      cwd: dirname(binary),
      env: { ...process.env, KUBECONFIG: kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const s of [child.stdout, child.stderr]) {
      s.on('data', (chunk: Buffer) => {
        process.stdout.write(chunk);
        out.write(chunk);
      });
    }
    child.on('close', (code) => out.end(() => done(code ?? 1)));
  });
}

async function main(): Promise<number> {
  let opts: ConformanceOptions;
  try {
    opts = parseConformanceArgs(runnerArgv());
  } catch (e) {
    console.error(`conformance: ${(e as Error).message}\n\n${CONFORMANCE_HELP}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(CONFORMANCE_HELP);
    return 0;
  }
  const cluster = opts.kubeconfig ? '' : `conf${process.pid}`;
  if (cluster && process.getuid?.() !== 0) {
    log('needs root: the local cluster uses network namespaces, mounts and iptables');
    return 1;
  }
  const started = Date.now();
  const binary = suiteBinary();
  const version = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version as string;

  let kubeconfig = opts.kubeconfig ?? '';
  let lbRange: string | undefined;
  const interrupt = new Interrupt(cluster || undefined, log);
  let waypointDeployed = false;
  let backendsApplied = false;
  let kubectl: Kubectl | undefined;
  try {
    if (cluster) {
      log(`creating local cluster ${cluster} (${opts.nodes} nodes)`);
      const created = await createCluster({ name: cluster, nodes: opts.nodes, log });
      kubeconfig = created.kubeconfig;
      lbRange = created.lbRange;
    }
    kubectl = kubectlFor(kubeconfig);
    interrupt.check();
    if (!opts.skipInstall) {
      log(`trellis install --gateway-api-crds ${GATEWAY_API_CRDS}`);
      const install = trellisInstall(kubeconfig, 'default', opts.installTimeout, [
        '--gateway-api-crds',
        GATEWAY_API_CRDS,
      ]);
      if (install.status !== 0) throw new Error(`trellis install exited ${install.status}`);
      log(`trellis install done in ${install.seconds.toFixed(1)}s`);
    }
    interrupt.check();

    const plan = planRun(
      opts.profiles,
      opts.gatewayClass,
      kubectl.tryGet('gatewayclass', opts.gatewayClass),
      MESH_SUPPORTED_FEATURES,
      opts.coreOnly,
    );
    for (const n of plan.notRunnable) log(`profile ${n.profile} cannot run: ${n.reason}`);
    if (plan.profiles.length === 0) throw new Error('none of the requested profiles can run here');
    log(`profiles: ${plan.profiles.join(', ')}`);
    log(`supported features from ${plan.featureSources.join(' and ')}:`);
    log(`  ${plan.supportedFeatures.join(', ')}`);
    // Every namespace the suite creates names this waypoint (its -namespace-labels).
    deployWaypoint(kubectl);
    waypointDeployed = true;
    if (plan.profiles.every((p) => p.startsWith('MESH-'))) {
      // v1.6.1's mesh setup waits for pods in two namespaces only its gateway setup creates.
      log(
        `mesh only: applying the suite's ${GATEWAY_BACKEND_NAMESPACES.join(', ')} (gateway-api#4934)`,
      );
      kubectl.apply(backendNamespaceObjects(suiteBaseManifests()));
      backendsApplied = true;
    }
    interrupt.check();

    const apiVersion = installedGatewayApiVersion(kubectl);
    const reportFile =
      opts.report !== undefined
        ? isAbsolute(opts.report)
          ? opts.report
          : resolve(opts.report)
        : opts.runTest || opts.coreOnly
          ? PARTIAL_REPORT
          : join(REPO, reportPath(apiVersion, version));
    mkdirSync(dirname(reportFile), { recursive: true });
    rmSync(reportFile, { force: true });
    // GatewayStaticAddresses asks the load balancer for these (the flags, else the range's).
    const addresses =
      opts.usableAddress && opts.unusableAddress
        ? { usable: opts.usableAddress, unusable: opts.unusableAddress }
        : lbRange
          ? requestableAddresses(parseLbRange(lbRange))
          : undefined;
    if (addresses)
      log(`static addresses: usable ${addresses.usable}, unusable ${addresses.unusable}`);
    else
      log(
        'static addresses: none known (--usable-address/--unusable-address): GatewayStaticAddresses will fail if it runs',
      );
    const args = suiteArgs({
      plan,
      gatewayClass: opts.gatewayClass,
      version,
      reportFile,
      skipTests: Object.keys(UNSUPPORTED_TESTS),
      ...(addresses ? { addresses } : {}),
      runTest: opts.runTest,
      debug: opts.debug,
      timeouts: opts.timeouts,
    });
    log(`${binary} ${args.join(' ')}`);
    const suiteStarted = Date.now();
    const code = await runSuite(binary, args, kubeconfig);
    const suiteSeconds = (Date.now() - suiteStarted) / 1000;

    console.log('\nGateway API conformance summary');
    console.log(`  cluster: ${cluster ? `local ${cluster}, ${opts.nodes} nodes` : kubeconfig}`);
    console.log(
      `  suite: exit ${code} in ${suiteSeconds.toFixed(0)}s (whole run ${((Date.now() - started) / 1000).toFixed(0)}s so far); log ${LOG_FILE}`,
    );
    for (const n of plan.notRunnable) console.log(`  ${n.profile}: NOT RUN: ${n.reason}`);
    if (!existsSync(reportFile)) {
      console.log(`  no report written (${reportFile}): see the suite's output above`);
      return 1;
    }
    const report = parseReport(readFileSync(reportFile, 'utf8'));
    console.log(
      `  report: ${reportFile} (Gateway API ${report.gatewayAPIVersion} ${report.gatewayAPIChannel}, Trellis ${report.implementationVersion})`,
    );
    for (const l of summaryLines(report, UNSUPPORTED_TESTS)) console.log(l);
    if (report.succeededProvisionalTests.length)
      console.log(`  provisional tests passed: ${report.succeededProvisionalTests.join(', ')}`);
    return code === 0 && failedCount(report) === 0 && plan.notRunnable.length === 0 ? 0 : 1;
  } finally {
    interrupt.dispose();
    if (cluster && !opts.keep) {
      log(`deleting cluster ${cluster}`);
      await deleteCluster(cluster, { quiet: true });
    } else if (cluster) {
      log(
        `cluster ${cluster} kept: KUBECONFIG=${kubeconfig}; delete with trellis cluster delete --name ${cluster}`,
      );
    } else if (kubectl) {
      const created = [
        ...(waypointDeployed ? [CONFORMANCE_WAYPOINT.namespace] : []),
        ...(backendsApplied ? GATEWAY_BACKEND_NAMESPACES : []),
      ];
      if (created.length) kubectl.run(['delete', 'namespace', ...created, '--wait=false']);
    }
  }
}

main().then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    console.error(`conformance: ${e.stack ?? e.message}`);
    process.exitCode = 1;
  },
);
