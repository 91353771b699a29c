// trellis-cni and trellis-cni-agent on the local cluster (root; needs tools/kube/build.sh), set up
// by CniCluster (cni-cluster.ts): the agent DaemonSet chains the single-executable plugin into the
// node's conflist, the node emulator runs that chain for every pod as a runtime does, and the real
// control plane (WDS) and ztunnel run in the node's netns. Checked: labelling a namespace redirects
// its running pods without a restart (same PIDs, TLS on the node's bridge); agent and ztunnel
// restarts keep pods working; a new pod is redirected at CNI ADD and ztunnel learns its IPs from
// WDS; ztunnel's DNS proxy answers mesh names and forwards the rest (a pod opts out by
// annotation); the chain run by hand (loopback, bridge + host-local, trellis-cni; env + stdin, no
// Node on PATH) for ADD, CHECK, drift, malformed input and DEL; the agent's metrics; unlabelling
// reverts; with the agent gone a pod outside the mesh starts and an enrolled one waits, saying
// why; uninstall removes every trace while pods keep working.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { Kubectl } from '@trellis/local-cluster';
import { CniCluster, cniAgentManifests, CNI_SYSTEM_NAMESPACE } from './cni-cluster.js';
import { cniEnv, CniPluginError, invokePlugin, runChain, type Conflist } from './cni-runtime.js';
import { httpInNetns } from './http-in-netns.js';
import { eventually, START_TIMEOUT_MS } from '@trellis/core/test-support';
import type { Node } from './netns-cluster.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const NAME = `cni${process.pid % 100000}`;
const APP = 'shop';
const SYSTEM = CNI_SYSTEM_NAMESPACE;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;

let cluster: CniCluster;
let kc: Kubectl;
let dir = '';
let nodeRoot = '';
let node: Node;
let clusterDns = '';

const echoPod = (name: string, ns = APP, labels: Record<string, string> = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels: { app: name, ...labels } },
  spec: {
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: 'echo',
        image: 'trellis/echo:dev',
        env: [
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'PORT', value: '8080' },
        ],
      },
    ],
  },
});

const pod = (name: string, ns = APP): Obj => kc.getJson('pod', '-n', ns, name);
const pidOf = (p: Obj): number =>
  Number(/trellis:\/\/(\d+)/.exec(p.status?.containerStatuses?.[0]?.containerID ?? '')?.[1]);
const netnsOf = (p: Obj) => `/proc/${pidOf(p)}/ns/net`;
const annotation = (p: Obj) => p.metadata.annotations?.['ambient.istio.io/redirection'];
const agentPods = () => cluster.agentPods();

async function running(name: string, ns = APP): Promise<Obj> {
  return eventually(`pod ${ns}/${name} running`, () => {
    const p = kc.tryGet('pod', '-n', ns, name);
    if (p?.status?.containerStatuses?.[0]?.state?.running && p.status.podIP) return p;
    if (p?.status?.message) throw new Error(p.status.message);
    return undefined;
  });
}

function inNetns(netns: string, cmd: string, args: string[]): string {
  return execFileSync('nsenter', [`--net=${netns}`, cmd, ...args], { encoding: 'utf8' });
}

/** Runs `fn` while capturing TCP on the node's cni0 bridge; returns what was sent (text, for markers). */
async function capture(fn: () => Promise<void>): Promise<{ tls: number; payload: string }> {
  const file = join(dir, `cap-${Date.now()}.pcap`);
  const cap = spawn(
    'ip',
    ['netns', 'exec', node.netns, 'dumpcap', '-q', '-i', 'cni0', '-f', 'tcp', '-w', file],
    {
      stdio: 'ignore',
    },
  );
  await eventually('dumpcap to start', () => (existsSync(file) ? true : undefined));
  await new Promise((r) => setTimeout(r, 300));
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    cap.kill('SIGINT');
    await new Promise((r) => cap.once('exit', r));
  }
  const tls = execFileSync(
    'tshark',
    ['-r', file, '-Y', 'tls.handshake', '-T', 'fields', '-e', 'frame.number'],
    {
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter(Boolean).length;
  const payload = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'tcp.payload'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean)
    .map((h) => Buffer.from(h.replace(/:/g, ''), 'hex').toString('latin1'))
    .join('');
  return { tls, payload };
}

async function clientToServer(marker: string): Promise<Obj> {
  const client = pod('client');
  const server = pod('server');
  const r = await httpInNetns(netnsOf(client), server.status.podIP, 8080, `/${marker}`);
  assert.equal(r.status, 200);
  return JSON.parse(r.body);
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'needs root');
  cluster = await CniCluster.create(NAME);
  ({ kc, node, nodeRoot, dir } = cluster);
  await cluster.deployAgent();
  kc.apply([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: APP } },
    echoPod('server'),
    echoPod('client'),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'server', namespace: APP },
      spec: { selector: { app: 'server' }, ports: [{ port: 8080 }] },
    },
  ]);
  clusterDns = kc.getJson('service', '-n', 'kube-system', 'kube-dns').spec.clusterIP;
  await running('server');
  await running('client');
  await cluster.startMesh([
    { namespace: APP, serviceAccount: 'default' },
    { namespace: 'meshed', serviceAccount: 'default' },
  ]);
});

after(async () => {
  await cluster?.delete();
});

test('labelling the namespace redirects running pods without restarting them; traffic is TLS on the node', async () => {
  const before = { server: pidOf(pod('server')), client: pidOf(pod('client')) };
  const plain = await capture(async () => void (await clientToServer('plaintext-marker-1')));
  assert.equal(plain.tls, 0);
  assert.match(
    plain.payload,
    /plaintext-marker-1/,
    'before enrollment the request crosses the bridge in clear',
  );

  const t0 = Date.now();
  kc.run(['label', 'namespace', APP, 'istio.io/dataplane-mode=ambient']);
  await eventually('both pods annotated', () =>
    annotation(pod('server')) === 'enabled' && annotation(pod('client')) === 'enabled'
      ? true
      : undefined,
  );
  console.log(`# labelled -> both pods redirected and annotated in ${Date.now() - t0} ms`);
  assert.deepEqual(
    { server: pidOf(pod('server')), client: pidOf(pod('client')) },
    before,
    'same container PIDs',
  );
  assert.equal(pod('server').status.containerStatuses[0].restartCount, 0);
  assert.match(
    inNetns(netnsOf(pod('client')), 'iptables-save', []),
    /-A ISTIO_OUTPUT .*--to-ports 15001/,
  );

  const meshed = await capture(async () => {
    const echo = await clientToServer('mesh-marker-2');
    assert.equal(echo.path, '/mesh-marker-2');
  });
  assert.ok(meshed.tls > 0, 'an HBONE TLS handshake crossed the bridge');
  assert.doesNotMatch(
    meshed.payload,
    /mesh-marker-2/,
    'the request never crosses the bridge in clear',
  );
});

test('an agent restart keeps redirected pods as they are (connections and rules untouched)', async () => {
  const saveBefore = inNetns(netnsOf(pod('client')), 'iptables-save', ['-t', 'nat', '-c']);
  const [old] = agentPods();
  kc.run(['delete', 'pod', '-n', SYSTEM, old.metadata.name, '--wait=true']);
  await eventually('a new agent to run', () =>
    agentPods().some(
      (p: Obj) =>
        p.metadata.uid !== old.metadata.uid && p.status?.containerStatuses?.[0]?.state?.running,
    )
      ? true
      : undefined,
  );
  await eventually('ztunnel to reconnect to the new agent', () =>
    cluster.ztunnel!.proc.lines.filter((l) => l.msg === 'ZDS connected').length >= 2
      ? true
      : undefined,
  );
  await clientToServer('after-agent-restart');
  const saveAfter = inNetns(netnsOf(pod('client')), 'iptables-save', ['-t', 'nat', '-c']);
  const ours = (s: string) => s.split('\n').filter((l) => l.includes('ISTIO_'));
  // Counters only grow when the rules were not rewritten: compare the rule text without them, then
  // check the restart did not re-create the chains (a rewrite resets packet counters to 0).
  assert.deepEqual(
    ours(saveAfter).map((l) => l.replace(/^\[\d+:\d+\] /, '')),
    ours(saveBefore).map((l) => l.replace(/^\[\d+:\d+\] /, '')),
  );
  assert.equal(
    cluster.ztunnel!.proc.lines.filter((l) => l.msg === 'pod removed').length,
    0,
    'ztunnel kept both pods across the agent restart',
  );
  assert.equal(annotation(pod('client')), 'enabled');
});

test('a ztunnel restart gets the full snapshot back and the pods are meshed again', async () => {
  await cluster.ztunnel!.stop('SIGKILL');
  await cluster.startZtunnel();
  await eventually('ztunnel to get both pods from the snapshot', () =>
    cluster.ztunnel!.proc.lines.filter((l) => l.msg === 'pod added').length >= 2 ? true : undefined,
  );
  const meshed = await capture(async () => void (await clientToServer('after-ztunnel-restart')));
  assert.ok(meshed.tls > 0);
});

test('a new pod in a labelled namespace is redirected at CNI ADD, before it runs', async () => {
  kc.apply([echoPod('fresh')]);
  const p = await running('fresh');
  assert.equal(annotation(p), 'enabled');
  assert.match(inNetns(netnsOf(p), 'iptables-save', []), /ISTIO_OUTPUT/);
  assert.ok(existsSync(`${nodeRoot}/var/run/istio-cni/enrolled/${p.metadata.uid}`));
  // ZDS handed the pod over before it had an IP; ztunnel found its WDS workload (another uid) by
  // name once the control plane sent it, and serves it.
  await eventually('ztunnel to learn the new pod from WDS', () =>
    cluster.ztunnel!.proc.lines.some(
      (l) =>
        l.msg === 'pod addresses' &&
        l.uid === p.metadata.uid &&
        l.workload === `Kubernetes//Pod/${APP}/fresh` &&
        JSON.stringify(l.ips) === JSON.stringify([p.status.podIP]),
    )
      ? true
      : undefined,
  );
  const meshed = await capture(async () => {
    const r = await httpInNetns(netnsOf(pod('client')), p.status.podIP, 8080, '/fresh-marker');
    assert.equal(r.status, 200);
  });
  assert.ok(meshed.tls > 0, 'client -> fresh went through HBONE');
  assert.doesNotMatch(meshed.payload, /fresh-marker/);
  kc.run(['delete', 'pod', '-n', APP, 'fresh', '--wait=true']);
  await eventually('the marker to go with the pod', () =>
    existsSync(`${nodeRoot}/var/run/istio-cni/enrolled/${p.metadata.uid}`) ? undefined : true,
  );
});

/** Resolves `name` (IPv4) the way an app in the pod does: glibc with the pod's resolv.conf. */
function lookupInPod(p: Obj, name: string): string[] {
  try {
    const out = execFileSync(
      'nsenter',
      ['-t', String(pidOf(p)), '--net', '--mount', 'getent', 'ahostsv4', name],
      { encoding: 'utf8' },
    );
    return [
      ...new Set(
        out
          .split('\n')
          .map((l) => l.split(/\s+/)[0]!)
          .filter(Boolean),
      ),
    ];
  } catch {
    return []; // getent exits 2 when the name does not resolve
  }
}

/** Asks the cluster DNS (CoreDNS) itself, from the node, bypassing any pod's capture. */
function lookupInCoreDns(name: string): string[] {
  const script = `const r = new (require('node:dns').promises.Resolver)(); r.setServers(['${clusterDns}']);
    r.resolve4(process.argv[1]).then((a) => console.log(a.join(' ')), () => console.log(''));`;
  return inNetns(`/run/netns/${node.netns}`, process.execPath, ['-e', script, name])
    .trim()
    .split(' ')
    .filter(Boolean);
}

test('DNS: ztunnel answers mesh Service names (even forms CoreDNS does not know) and forwards the rest; a pod opts out', async () => {
  const client = pod('client');
  const vip: string = kc.getJson('service', '-n', APP, 'server').spec.clusterIP;
  assert.match(
    inNetns(netnsOf(client), 'iptables-save', ['-t', 'nat']),
    /--dport 53 -j REDIRECT --to-ports 15053/,
    'DNS capture is on by default',
  );
  // "server.shop." (absolute, so no search list) is no name CoreDNS knows; ztunnel expands it.
  assert.deepEqual(lookupInCoreDns(`server.${APP}.svc.cluster.local`), [vip]);
  assert.deepEqual(lookupInCoreDns(`server.${APP}`), []);
  const before = await cluster.ztunnel!.metrics();
  assert.deepEqual(lookupInPod(client, `server.${APP}.`), [vip]);
  assert.deepEqual(lookupInPod(client, 'server'), [vip]);
  // A name outside the mesh goes to the cluster DNS through ztunnel: a pod's own DNS record.
  const podName = `${client.status.podIP.replaceAll('.', '-')}.${APP}.pod.cluster.local`;
  assert.deepEqual(lookupInPod(client, podName), [client.status.podIP]);
  assert.deepEqual(lookupInPod(client, 'www.example.com'), [], 'NXDOMAIN passed through');
  const count = (text: string, metric: string) =>
    [...text.matchAll(new RegExp(`^${metric}\\{[^}]*\\} (\\d+)`, 'gm'))].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
  const after = await cluster.ztunnel!.metrics();
  assert.ok(
    count(after, 'istio_dns_requests_total') > count(before, 'istio_dns_requests_total'),
    'the queries reached ztunnel',
  );
  assert.ok(
    count(after, 'istio_dns_upstream_requests_total') >
      count(before, 'istio_dns_upstream_requests_total'),
    'the non-mesh names were forwarded',
  );

  kc.apply([
    {
      ...echoPod('nodns'),
      metadata: {
        ...echoPod('nodns').metadata,
        annotations: { 'ambient.istio.io/dns-capture': 'false' },
      },
    },
  ]);
  const nodns = await running('nodns');
  assert.equal(annotation(nodns), 'enabled');
  assert.doesNotMatch(inNetns(netnsOf(nodns), 'iptables-save', ['-t', 'nat']), /15053/);
  assert.deepEqual(lookupInPod(nodns, `server.${APP}.`), [], 'CoreDNS answers it, not ztunnel');
  assert.deepEqual(lookupInPod(nodns, 'server'), [vip], 'the search list still works');
  kc.run(['delete', 'pod', '-n', APP, 'nodns', '--wait=true']);
});

test('the chain run by hand as a runtime does (env + stdin, no Node on PATH): ADD, CHECK, drift, malformed stdin, DEL', async () => {
  const NS = 'chain';
  const phantom = `${NAME}-phantom`; // a node no emulator runs: nothing but this test sets up the pod
  kc.apply([
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS, labels: { 'istio.io/dataplane-mode': 'ambient' } },
    },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: phantom } },
  ]);
  await eventually('the default service account', () =>
    kc.tryGet('serviceaccount', '-n', NS, 'default') ? true : undefined,
  );
  kc.apply([{ ...echoPod('hand', NS), spec: { ...echoPod('hand', NS).spec, nodeName: phantom } }]);
  const p = pod('hand', NS);
  const sandbox = `trellis-cni-hand-${process.pid}`;
  execFileSync('ip', ['netns', 'add', sandbox]);
  const path = '/usr/sbin:/sbin';
  try {
    assert.notEqual(
      spawnSync('sh', ['-c', 'command -v node'], { env: { PATH: path } }).status,
      0,
      'node is not on the PATH the plugins get',
    );
    const list = JSON.parse(
      readFileSync(`${nodeRoot}/etc/cni/net.d/10-trellis.conflist`, 'utf8'),
    ) as Conflist;
    assert.deepEqual(
      list.plugins.map((x) => x.type),
      ['bridge', 'trellis-cni'],
    );
    const opts = {
      binDirs: [`${nodeRoot}/opt/cni/bin`, '/usr/lib/cni'],
      hostNetns: `/run/netns/${node.netns}`,
      path,
      nodeFs: {
        root: nodeRoot,
        hostPathsFile: `${dirname(nodeRoot)}/host-paths`,
        hostMountpointsFile: `${dirname(dirname(dirname(nodeRoot)))}/host-mountpoints`,
        keepVisible: [dirname(nodeRoot), REPO_ROOT, dirname(process.execPath)],
      },
    };
    const call = {
      containerID: `hand${process.pid}`,
      netnsPath: `/run/netns/${sandbox}`,
      ifName: 'eth0',
      podNamespace: NS,
      podName: 'hand',
      podUID: p.metadata.uid,
    };
    // A runtime that skipped the loopback network: ztunnel cannot bind its DNS proxy to
    // 127.0.0.1 in the pod, so the enrolled pod's ADD fails and says why; the runtime then DELs.
    const refused = await runChain('ADD', list, call, opts).then(
      () => assert.fail('ADD passed though the redirection could not be set up'),
      (e: CniPluginError) => e,
    );
    assert.equal(refused.plugin, 'trellis-cni');
    assert.equal(refused.error.code, 11);
    assert.match(
      refused.error.msg ?? '',
      /pod chain\/hand is in the ambient mesh \(namespace label\) but its traffic redirection could not be set up: .*DNS proxy could not start.*127\.0\.0\.1:15053/,
    );
    await runChain('DEL', list, call, opts);
    // As containerd does: the loopback network first, then the node's chain.
    const loopback = { cniVersion: '1.0.0', name: 'cni-loopback', plugins: [{ type: 'loopback' }] };
    await runChain('ADD', loopback, call, opts);
    const [bridge, chained] = await runChain('ADD', list, call, opts);
    assert.deepEqual(chained, bridge, 'trellis-cni passes prevResult on unchanged');
    assert.match(
      inNetns(call.netnsPath, 'iptables-save', []),
      /-A ISTIO_OUTPUT .*--to-ports 15001/,
    );
    await eventually('ztunnel to get the netns over ZDS', () =>
      cluster.ztunnel!.proc.lines.some((l) => l.msg === 'pod added' && l.uid === p.metadata.uid)
        ? true
        : undefined,
    );
    assert.equal(annotation(pod('hand', NS)), 'enabled');
    assert.ok(existsSync(`${nodeRoot}/var/run/istio-cni/enrolled/${p.metadata.uid}`));

    await runChain('CHECK', list, call, opts, chained);
    inNetns(call.netnsPath, 'iptables', ['-t', 'nat', '-F', 'ISTIO_OUTPUT']);
    const drift = await runChain('CHECK', list, call, opts, chained).then(
      () => assert.fail('CHECK passed with the rules gone'),
      (e: CniPluginError) => e,
    );
    assert.equal(drift.plugin, 'trellis-cni');
    assert.equal(drift.error.code, 100);
    assert.match(drift.error.msg ?? '', /ISTIO_OUTPUT/);

    const plugin = `${nodeRoot}/opt/cni/bin/trellis-cni`;
    const bad = await invokePlugin(
      plugin,
      cniEnv('ADD', call, opts.binDirs),
      '{"cniVersion":',
      opts,
    );
    assert.equal(bad.code, 1);
    const err = JSON.parse(bad.stdout);
    assert.equal(err.code, 6);
    assert.match(err.msg, /JSON/);
    const noEnv = await invokePlugin(plugin, { CNI_COMMAND: 'ADD' }, '{}', opts);
    assert.equal(noEnv.code, 1);
    assert.equal(JSON.parse(noEnv.stdout).code, 4);

    await runChain('DEL', list, call, opts, chained);
    await runChain('DEL', loopback, call, opts);
    assert.doesNotMatch(inNetns(call.netnsPath, 'iptables-save', []), /ISTIO_/);
    await eventually('ztunnel to let the netns go', () =>
      cluster.ztunnel!.proc.lines.some((l) => l.msg === 'pod removed' && l.uid === p.metadata.uid)
        ? true
        : undefined,
    );
    assert.ok(!existsSync(`${nodeRoot}/var/run/istio-cni/enrolled/${p.metadata.uid}`));
    // The sandbox is going away (pod deletion or a new sandbox, which is redirected again): as
    // Istio's agent does, the annotation is left to the pod's own lifecycle.
    assert.equal(annotation(pod('hand', NS)), 'enabled');
  } finally {
    execFileSync('ip', ['netns', 'del', sandbox]);
    kc.run(['delete', 'namespace', NS, '--wait=false']);
    kc.run(['delete', 'node', phantom, '--wait=false']);
  }
});

test("the agent's metrics are exported with their names", async () => {
  const r = await httpInNetns(`/run/netns/${node.netns}`, node.ip, 15014, '/metrics');
  assert.equal(r.status, 200);
  const value = (metric: string, labels = '') =>
    [...r.body.matchAll(new RegExp(`^${metric}(?:\\{([^}]*)\\})? (\\S+)`, 'gm'))]
      .filter((m) => (m[1] ?? '').includes(labels))
      .reduce((n, m) => n + Number(m[2]), 0);
  assert.ok(value('istio_cni_installs_total', 'result="') >= 1, r.body);
  assert.equal(value('istio_cni_install_ready'), 1);
  assert.equal(value('ztunnel_connected'), 1);
  assert.ok(value('trellis_cni_pods_enrolled') >= 2, 'server, client (and fresh pods) enrolled');
  assert.ok(value('istio_cni_plugin_requests_total', 'response_code="200"') >= 2);
  assert.ok(value('istio_cni_plugin_requests_total', 'response_code="409"') >= 1, 'the drift');
  assert.ok(value('istio_cni_plugin_requests_total', 'response_code="500"') >= 1, 'the refusal');
  assert.ok(value('nodeagent_reconcile_events_total', 'type="') >= 1);
  assert.ok(value('trellis_cni_rule_failures_total', 'operation="cni-add"') >= 1);
});

test('unlabelling reverts: rules and annotation go, traffic is plain again, same PIDs', async () => {
  const pids = pidOf(pod('server'));
  kc.run(['label', 'namespace', APP, 'istio.io/dataplane-mode-']);
  await eventually('annotations removed', () =>
    annotation(pod('server')) === undefined && annotation(pod('client')) === undefined
      ? true
      : undefined,
  );
  // The annotation goes first (while it is there the pod is redirected; see the agent's
  // redirector), the in-pod rules right after it.
  await eventually('the in-pod rules removed', () =>
    /ISTIO_/.test(inNetns(netnsOf(pod('client')), 'iptables-save', [])) ? undefined : true,
  );
  const plain = await capture(async () => void (await clientToServer('plaintext-marker-3')));
  assert.match(plain.payload, /plaintext-marker-3/);
  assert.equal(pidOf(pod('server')), pids);
});

test('with the agent gone, a pod outside the mesh still starts; an enrolled one waits and says why', async () => {
  kc.run(['delete', 'daemonset', '-n', SYSTEM, 'trellis-cni-node', '--wait=true']);
  await eventually('the agent pod to be gone', () => (agentPods().length === 0 ? true : undefined));
  kc.apply([
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'meshed', labels: { 'istio.io/dataplane-mode': 'ambient' } },
    },
    echoPod('outside'),
    echoPod('inside', 'meshed'),
  ]);
  await running('outside');
  const msg = await eventually('the enrolled pod to report the plugin error', () => {
    const status = pod('inside', 'meshed').status;
    const m: string = status?.message ?? '';
    if (m.includes('trellis-cni')) return m;
    throw new Error(`pod status: ${JSON.stringify(status)}`);
  });
  assert.match(
    msg,
    /pod meshed\/inside is in the ambient mesh \(namespace label\) but its traffic redirection could not be set up: trellis-cni-agent is not running/,
  );
});

test('uninstall (agent stopped with UNINSTALL=true): plugin, conflist entry, in-pod rules, annotations, host rules all gone; pods keep working', async () => {
  kc.apply(cniAgentManifests([{ name: 'UNINSTALL', value: 'true' }]));
  kc.run(['label', 'namespace', APP, 'istio.io/dataplane-mode=ambient']);
  const inside = await running('inside', 'meshed'); // its ADD went through once the agent was back
  await eventually('the pods to be redirected', () =>
    [pod('server'), pod('client'), pod('inside', 'meshed')].every(
      (p) => annotation(p) === 'enabled',
    )
      ? true
      : undefined,
  );
  const nodeNetns = `/run/netns/${node.netns}`;
  const conflist = () =>
    JSON.parse(readFileSync(`${nodeRoot}/etc/cni/net.d/10-trellis.conflist`, 'utf8')).plugins.map(
      (x: Obj) => x.type,
    );
  const runDir = `${nodeRoot}/var/run/istio-cni`;
  assert.deepEqual(conflist(), ['bridge', 'trellis-cni']);
  assert.match(inNetns(nodeNetns, 'iptables-save', ['-t', 'nat']), /ISTIO_POSTRT/);
  assert.match(inNetns(nodeNetns, 'ipset', ['list', '-n']), /istio-inpod-probes-v4/);
  assert.match(inNetns(netnsOf(inside), 'iptables-save', []), /ISTIO_OUTPUT/);
  const uids = [pod('server'), pod('client'), inside].map((p) => p.metadata.uid as string);
  const mark = cluster.ztunnel!.proc.lines.length;
  // The emulator removes a deleted pod's directory, log included: follow the agent's log to keep
  // what it said while uninstalling.
  const [agent] = agentPods();
  const agentLog = `${tmpdir()}/trellis-cni-agent-uninstall-${process.pid}.log`;
  const logDir = `${nodeRoot}/../pods/${SYSTEM}_${agent.metadata.name}_${agent.metadata.uid}/logs/agent`;
  const out = openSync(agentLog, 'w');
  const tail = spawn('tail', ['-n', '+1', '-F', `${logDir}/${readdirSync(logDir).sort().at(-1)}`], {
    stdio: ['ignore', out, 'ignore'],
  });
  closeSync(out);
  kc.run(['delete', 'daemonset', '-n', SYSTEM, 'trellis-cni-node', '--wait=true']);
  await eventually(
    'the agent pod to be gone',
    () => (agentPods().length === 0 ? true : undefined),
    START_TIMEOUT_MS,
  );
  tail.kill();
  assert.ok(!existsSync(`${nodeRoot}/opt/cni/bin/trellis-cni`), 'the plugin binary');
  assert.deepEqual(conflist(), ['bridge'], 'the conflist entry');
  assert.ok(!existsSync(`${runDir}/trellis-cni-kubeconfig`), 'the plugin kubeconfig');
  assert.deepEqual(
    execFileSync('ls', [`${runDir}/enrolled`], { encoding: 'utf8' }).trim(),
    '',
    'the markers',
  );
  for (const p of [pod('server'), pod('client'), pod('inside', 'meshed')]) {
    assert.equal(annotation(p), undefined, `annotation of ${p.metadata.name}`);
    assert.doesNotMatch(inNetns(netnsOf(p), 'iptables-save', []), /ISTIO_/, p.metadata.name);
    assert.doesNotMatch(inNetns(netnsOf(p), 'ip', ['rule']), /lookup 100/, p.metadata.name);
  }
  assert.doesNotMatch(inNetns(nodeNetns, 'iptables-save', []), /ISTIO_/, 'host rules');
  assert.doesNotMatch(inNetns(nodeNetns, 'ipset', ['list', '-n']), /istio-inpod-probes/);
  await eventually('ztunnel to drop every pod', () => {
    const removed = cluster
      .ztunnel!.proc.lines.slice(mark)
      .filter((l) => l.msg === 'pod removed')
      .map((l) => l.uid);
    return uids.every((u) => removed.includes(u)) ? true : undefined;
  });
  const plain = await capture(async () => void (await clientToServer('after-uninstall')));
  assert.match(plain.payload, /after-uninstall/, 'plain traffic again, nothing broken');
});
