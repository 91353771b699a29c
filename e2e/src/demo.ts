#!/usr/bin/env node
// `npm run demo`, the README's main job: creates a local 2-node cluster, installs Trellis with the
// CLI, deploys the sample (e2e/sample) and shows the mesh at work with real traffic: the identity
// the server-side ztunnel saw, a call denied by an AuthorizationPolicy, a plaintext call refused by
// PeerAuthentication STRICT. Keeps the cluster to explore (prints how, and how to delete it) unless
// --cleanup; Ctrl-C at any point deletes it.
import { setTimeout as sleep } from 'node:timers/promises';
import { createCluster, deleteCluster, kubectlFor, type Kubectl } from '@trellis/local-cluster';
import { runnerArgv } from './config.js';
import { trellisInstall } from './harness/install.js';
import { Interrupt } from './harness/interrupt.js';
import { deploySample, labelNodeSlots } from './harness/sample.js';
import { curlFrom, curlUntil, podOf, type CurlResult } from './harness/traffic.js';
import { accessLog, describeRecord } from './harness/ztunnel-log.js';

const HELP = `Usage: npm run demo -- [--name NAME] [--cleanup]

Creates a local 2-node Kubernetes cluster (root, no Docker), installs Trellis with
\`trellis install\`, deploys a sample (namespace e2e-mesh enrolled in the mesh: client, echo-v1 on
node 1, echo-v2 on node 2; namespace e2e-plain not enrolled: client) and shows mutual TLS with the
identities the server-side ztunnel saw, an AuthorizationPolicy DENY and PeerAuthentication STRICT.

  --name NAME   cluster name (default trellis-demo; a cluster of that name is replaced)
  --cleanup     delete the cluster at the end (default: keep it to explore; Ctrl-C deletes it)
  -h, --help    this help
`;

const ECHO = 'http://echo.e2e-mesh.svc.cluster.local/';
const ECHO_V2 = 'http://echo-v2.e2e-mesh.svc.cluster.local/';
const DENY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-client, namespace: e2e-mesh}
spec:
  selector: {matchLabels: {app: echo}}
  action: DENY
  rules: [{from: [{source: {principals: ["cluster.local/ns/e2e-mesh/sa/client"]}}]}]
`;
const STRICT = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: strict, namespace: e2e-mesh}
spec: {mtls: {mode: STRICT}}
`;

const say = (l = '') => console.log(l);
const step = (n: number, l: string) => say(`\n[${n}/6] ${l}`);
const outcome = (r: CurlResult) =>
  r.httpCode === 200
    ? 'HTTP 200'
    : `refused (curl exit ${r.exit}${r.httpCode ? `, HTTP ${r.httpCode}` : ''})`;

function parseArgs(argv: string[]): { name: string; cleanup: boolean; help: boolean } {
  const o = { name: 'trellis-demo', cleanup: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') o.help = true;
    else if (a === '--cleanup') o.cleanup = true;
    else if (a === '--name' && argv[i + 1]) o.name = argv[++i]!;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** What the ztunnel on `node` logged for inbound connections to `pod`, newest last. */
function inboundTo(kubectl: Kubectl, node: string, pod: string): string[] {
  return accessLog(kubectl, node)
    .filter((r) => r.direction === 'inbound' && r.dstWorkload?.endsWith(`/${pod}`))
    .map(describeRecord);
}

async function demo(kubectl: Kubectl, nodes: string[], interrupt: Interrupt): Promise<string[]> {
  const seen: string[] = [];
  const mesh = { namespace: 'e2e-mesh', pod: podOf(kubectl, 'e2e-mesh', 'client') };
  const plain = { namespace: 'e2e-plain', pod: podOf(kubectl, 'e2e-plain', 'client') };
  const echoV2 = kubectl.getJson('pods', '-n', 'e2e-mesh', '-l', 'app=echo,version=v2').items[0];
  const node2 = echoV2.spec.nodeName as string;

  step(4, `mTLS: e2e-mesh/client (${nodes[0]}) calls echo-v2 (${node2})`);
  const r = await curlUntil(() => curlFrom(kubectl, mesh, ECHO_V2), true);
  say(`  curl ${ECHO_V2} -> ${outcome(r)}`);
  if (r.httpCode !== 200) throw new Error(`the enrolled client could not reach echo-v2: ${r.body}`);
  const logged = inboundTo(kubectl, node2, echoV2.metadata.name);
  say(`  the ztunnel on ${node2} logged:`);
  for (const l of logged.slice(-2)) say(`    ${l}`);
  seen.push(...logged.slice(-1).map((l) => `identity seen: ${l}`));

  interrupt.check();
  step(5, 'AuthorizationPolicy DENY for principal cluster.local/ns/e2e-mesh/sa/client');
  kubectl.run(['apply', '-f', '-'], DENY);
  try {
    const denied = await curlUntil(() => curlFrom(kubectl, mesh, ECHO_V2), false);
    say(`  curl ${ECHO_V2} -> ${outcome(denied)}`);
    // The refusal can reach the client a moment before the ztunnel's line reaches its log.
    let deny: string[] = [];
    for (let i = 0; i < 20 && deny.length === 0; i++) {
      if (i > 0) await sleep(250);
      deny = inboundTo(kubectl, node2, echoV2.metadata.name).filter((l) => l.includes(': deny'));
    }
    for (const l of deny.slice(-1)) say(`  the ztunnel on ${node2} logged:\n    ${l}`);
    seen.push(`denied call: ${outcome(denied)}; ${deny.at(-1) ?? 'no deny logged'}`);
  } finally {
    kubectl.run(['delete', '--ignore-not-found', '-f', '-'], DENY);
  }

  interrupt.check();
  step(6, 'PeerAuthentication STRICT in e2e-mesh');
  kubectl.run(['apply', '-f', '-'], STRICT);
  try {
    const refused = await curlUntil(() => curlFrom(kubectl, plain, ECHO), false);
    const admitted = await curlUntil(() => curlFrom(kubectl, mesh, ECHO), true);
    say(`  e2e-plain/client (not in the mesh, plaintext) -> ${outcome(refused)}`);
    say(`  e2e-mesh/client (mTLS)                         -> ${outcome(admitted)}`);
    // Service echo is both versions: the refusal is logged by the ztunnel of either node.
    const strict = nodes
      .flatMap((n) => accessLog(kubectl, n).map((r) => ({ n, r })))
      .filter(({ r }) => r.direction === 'inbound' && r.protocol === 'tcp' && r.decision === 'deny')
      .at(-1);
    if (strict) say(`  the ztunnel on ${strict.n} logged:\n    ${describeRecord(strict.r)}`);
    seen.push(
      `STRICT: plaintext ${outcome(refused)}${strict ? ` (${describeRecord(strict.r)})` : ''}, mTLS ${outcome(admitted)}`,
    );
  } finally {
    kubectl.run(['delete', '--ignore-not-found', '-f', '-'], STRICT);
  }
  return seen;
}

async function main(): Promise<number> {
  const opts = parseArgs(runnerArgv());
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (process.getuid?.() !== 0)
    throw new Error('the local cluster needs root (network namespaces, mounts): run as root');
  const log = (l: string) => console.error(`demo: ${l}`);
  say(
    'Trellis demo: a local cluster, the mesh installed by its CLI, a sample app, mTLS and policy.',
  );
  step(1, `creating local cluster ${opts.name} (2 nodes, no Docker)`);
  const interrupt = new Interrupt(opts.name, log);
  let keep = false;
  try {
    const { kubeconfig } = await createCluster({ name: opts.name, nodes: 2, log });
    interrupt.check();
    const kubectl = kubectlFor(kubeconfig);
    const nodes = labelNodeSlots(kubectl);

    step(2, `npx trellis install --kubeconfig ${kubeconfig}`);
    const install = trellisInstall(kubeconfig, 'default', '180s');
    if (install.status !== 0) throw new Error(`trellis install exited ${install.status}`);
    interrupt.check();
    say(`  installed and Ready in ${install.seconds.toFixed(1)} s`);

    step(3, 'deploying the sample: e2e-mesh (enrolled) client, echo-v1, echo-v2; e2e-plain client');
    deploySample(kubectl);
    interrupt.check();

    const seen = await demo(kubectl, nodes, interrupt);
    say('\nWhat happened');
    for (const l of seen) say(`  - ${l}`);
    keep = !opts.cleanup;
    if (keep) {
      say(`\nThe cluster ${opts.name} is still running. Explore it:`);
      say(`  export KUBECONFIG=${kubeconfig}`);
      say('  npx trellis status');
      say('  npx trellis proxy-status');
      say(
        '  $(tools/kube/build.sh --print-bin-dir)/kubectl exec -n e2e-mesh deploy/client -- curl -s http://echo.e2e-mesh.svc.cluster.local/',
      );
      say('Clean up (removes every process, network namespace and mount of the cluster):');
      say(`  npx trellis uninstall --kubeconfig ${kubeconfig}   # the mesh only`);
      say(`  npx trellis cluster delete --name ${opts.name}       # the whole cluster`);
    }
    return 0;
  } finally {
    interrupt.dispose();
    if (!keep) {
      log(`deleting cluster ${opts.name}`);
      await deleteCluster(opts.name, { quiet: true });
    }
  }
}

main().then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    console.error(`demo: ${e.message}`);
    process.exitCode = 1;
  },
);
