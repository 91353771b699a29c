// Creates, lists and deletes local clusters: PKI, control-plane processes on the host, one netns
// per node with kube-proxy and the node emulator. Everything lives under the cluster's state dir,
// in netns named trellis.<name>.*, on the bridge tl-<name>, or in host mount points it records.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  clusterLayout,
  MAX_SLOTS,
  netnsPrefix,
  validateClusterName,
  type ClusterLayout,
} from './layout.pure.js';
import {
  apiServerSpec,
  controllerManagerSpec,
  etcdSpec,
  kubeconfigPath,
  kubeProxySpec,
  pkiPaths,
  schedulerSpec,
  type ProcessSpec,
} from './kube-flags.pure.js';
import { renderKubeconfig } from './kubeconfig.pure.js';
import { kubeletApiAdminBinding, lbControllerRbac } from './bootstrap-objects.pure.js';
import { parseLbRange, rangeConflict } from './lb-controller/range.pure.js';
import { hostRoutes } from './lb-controller/host-routes.js';
import { startLbControllerDaemon, stopLbControllerDaemon } from './lb-controller/daemon.js';
import { CLUSTER_DOMAIN, clusterDnsObjects, collectionPath } from './cluster-dns.pure.js';
import { ensurePki } from './pki.js';
import { withHostLock } from './host-lock.js';
import { pendingFileOf, recordFileOf, releaseHostMountpoints } from './host-mountpoints.js';
import { parseMountinfo } from './mount-propagation.pure.js';
import {
  descendants,
  readPid,
  rssBytes,
  startDaemon,
  stopAll,
  stopPid,
  isAlive,
} from './processes.js';
import {
  addHostPodRoute,
  addNodePodRoute,
  bridgePorts,
  createBridge,
  createNodeNetns,
  deleteLink,
  destroyNetns,
  linkExists,
  listNetns,
} from './netns.js';
import { KubeClient, type Obj } from './kube-client.js';
import {
  clustersDir,
  DEFAULT_IMAGE_MAP,
  NODE_EMULATOR_MAIN,
  REPO_ROOT,
  builtGoTool,
  requireKubeBinaries,
} from './paths.js';
import type { NodeConfig } from './node-emulator/context.js';

export interface CreateOptions {
  name: string;
  nodes: number;
  imageMapFile?: string;
  /** Addresses for LoadBalancer Services: an IPv4 CIDR or A-B range (default: see layout.pure.ts). */
  lbRange?: string;
  log?: (line: string) => void;
}

export interface ClusterInfo {
  name: string;
  nodes: number;
  stateDir: string;
  kubeconfig: string;
  apiServer: string;
  /** The range LoadBalancer Services get their addresses from. */
  lbRange: string;
  running: boolean;
}

interface ClusterRecord {
  name: string;
  slot: number;
  nodes: number;
  lbRange?: string;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new Error('local clusters need root (network namespaces, bridges, mounts); run as root');
}

function readRecord(dir: string): ClusterRecord | undefined {
  const f = `${dir}/cluster.json`;
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as ClusterRecord) : undefined;
}

function freeSlot(): number {
  const used = new Set(listClusters().map((c) => readRecord(c.stateDir)?.slot));
  // A cluster kept in another clusters dir (TRELLIS_CLUSTERS_DIR) is not listed here but holds its
  // slot's bridge address on the host: skip those too.
  const hostAddrs = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
  for (let s = 0; s < MAX_SLOTS; s++)
    if (!used.has(s) && !hostAddrs.includes(` ${clusterLayout('x', s, 1, '/').hostIP}/`)) return s;
  throw new Error(`all ${MAX_SLOTS} local cluster slots are in use; delete a cluster first`);
}

export function layoutOf(name: string): ClusterLayout {
  const rec = readRecord(`${clustersDir()}/${name}`);
  if (!rec) throw new Error(`no local cluster named "${name}" (see \`trellis cluster list\`)`);
  return clusterLayout(rec.name, rec.slot, rec.nodes, clustersDir(), rec.lbRange);
}

export function adminKubeconfigPath(name: string): string {
  const l = layoutOf(name);
  return kubeconfigPath(l.stateDir, 'admin');
}

export function adminClient(l: ClusterLayout): KubeClient {
  const pki = `${l.stateDir}/pki`;
  return KubeClient.fromFiles(
    l.apiServerURL,
    `${pki}/ca.crt`,
    `${pki}/admin.crt`,
    `${pki}/admin.key`,
  );
}

export async function createCluster(o: CreateOptions): Promise<ClusterInfo> {
  const err = validateClusterName(o.name);
  if (err) throw new Error(err);
  if (o.lbRange !== undefined) parseLbRange(o.lbRange);
  requireRoot();
  const binDir = requireKubeBinaries();
  builtGoTool('coredns');
  if (!existsSync(NODE_EMULATOR_MAIN))
    throw new Error(`${NODE_EMULATOR_MAIN} missing; build with: npx tsc -b packages/local-cluster`);
  return withHostLock(clustersDir(), async () => {
    await deleteClusterLocked(o.name, true);
    try {
      return await createLocked(o, binDir);
    } catch (e) {
      // Leave nothing running behind a failed create; the error carries the failing log lines.
      await deleteClusterLocked(o.name, true);
      throw e;
    }
  });
}

async function createLocked(o: CreateOptions, binDir: string): Promise<ClusterInfo> {
  const log = o.log ?? (() => undefined);
  const imageMapFile = o.imageMapFile ?? DEFAULT_IMAGE_MAP;

  const l = clusterLayout(o.name, freeSlot(), o.nodes, clustersDir(), o.lbRange);
  const conflict = rangeConflict(parseLbRange(l.lbRange), {
    nodeSubnet: l.nodeSubnet,
    bridge: l.bridge,
    otherClusters: listClusters()
      .filter((c) => c.name !== l.name)
      .map((c) => ({ name: c.name, range: parseLbRange(c.lbRange) })),
    hostRoutes: await hostRoutes(),
  });
  if (conflict) throw new Error(conflict);
  await mkdir(l.stateDir, { recursive: true });
  const rec: ClusterRecord = { name: l.name, slot: l.slot, nodes: o.nodes, lbRange: l.lbRange };
  await writeFile(`${l.stateDir}/cluster.json`, JSON.stringify(rec, null, 2) + '\n');
  const runDir = `${l.stateDir}/run`;
  const logDir = `${l.stateDir}/logs`;

  log('generating PKI');
  await ensurePki(
    `${l.stateDir}/pki`,
    l.hostIP,
    l.kubernetesServiceIP,
    l.nodes.map((n) => ({ name: n.name, ip: n.ip })),
  );
  await writeKubeconfigs(l);

  log(`creating bridge ${l.bridge} and ${l.nodes.length} node network namespaces`);
  await createBridge(l);
  for (const n of l.nodes) await createNodeNetns(l, n);

  const start = (s: ProcessSpec) =>
    startDaemon({ name: s.name, command: s.binary, args: s.args, runDir, logDir });
  log('starting etcd');
  await start(etcdSpec(l, binDir));
  await waitFor(
    'etcd health',
    runDir,
    async () =>
      await fetch(`${l.etcdClientURL}/health`)
        .then((r) => r.ok)
        .catch(() => false),
  );
  log('starting kube-apiserver');
  await start(apiServerSpec(l, binDir));
  const client = adminClient(l);
  try {
    await waitFor(
      'kube-apiserver /readyz',
      runDir,
      async () => (await client.raw('GET', '/readyz').catch(() => ({ status: 0 }))).status === 200,
    );
    await client.req(
      'POST',
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      kubeletApiAdminBinding(),
    );
    for (const o of lbControllerRbac()) await client.req('POST', collectionPath(o as Obj), o);
    log('starting kube-controller-manager and kube-scheduler');
    await start(controllerManagerSpec(l, binDir));
    await start(schedulerSpec(l, binDir));

    const pki = pkiPaths(l.stateDir);
    for (const n of l.nodes) {
      await mkdir(`${n.dir}/run`, { recursive: true });
      const kp = kubeProxySpec(l, n, binDir);
      await startDaemon({
        name: `kube-proxy-${n.name}`,
        command: 'ip',
        args: ['netns', 'exec', n.netns, kp.binary, ...kp.args],
        runDir,
        logDir,
      });
      const cfg: NodeConfig = {
        clusterName: l.name,
        nodeName: n.name,
        nodeIP: n.ip,
        nodeDir: n.dir,
        apiServerURL: l.apiServerURL,
        caFile: pki.caCert,
        certFile: `${l.stateDir}/pki/node-${n.name}.crt`,
        keyFile: `${l.stateDir}/pki/node-${n.name}.key`,
        servingCertFile: `${l.stateDir}/pki/node-${n.name}-serving.crt`,
        servingKeyFile: `${l.stateDir}/pki/node-${n.name}-serving.key`,
        kubernetesServiceIP: l.kubernetesServiceIP,
        clusterDNSIP: l.clusterDNSIP,
        clusterDomain: CLUSTER_DOMAIN,
        resolvConfFile: '/etc/resolv.conf',
        imageMapFile,
        repoRoot: REPO_ROOT,
        hostMountpointsFile: recordFileOf(l.stateDir),
        cniBinDir: '/usr/lib/cni',
      };
      await writeFile(`${n.dir}/node.json`, JSON.stringify(cfg, null, 2) + '\n');
      await startNodeEmulator(l, n);
    }
    log('waiting for nodes to be Ready');
    let nodes: Obj[] = [];
    await waitFor('all nodes Ready with a pod CIDR', runDir, async () => {
      nodes = (await client.get('/api/v1/nodes')).items;
      return (
        nodes.length === l.nodes.length &&
        nodes.every(
          (n) =>
            n.spec.podCIDR &&
            n.status?.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True'),
        )
      );
    });
    // Pod CIDRs are fixed once assigned: route each via its node, on the host and in the other
    // nodes (the Node authorizer lets a node read only its own Node object, so nodes cannot do it).
    for (const n of nodes) {
      const ip = n.status.addresses.find((a: Obj) => a.type === 'InternalIP').address;
      await addHostPodRoute(l, n.spec.podCIDR, ip);
      for (const other of l.nodes.filter((o) => o.name !== n.metadata.name))
        await addNodePodRoute(other.netns, n.spec.podCIDR, ip);
    }
    log(`starting the load-balancer controller (LoadBalancer addresses from ${l.lbRange})`);
    await startLbController(l);
    log('deploying cluster DNS (CoreDNS as kube-system/kube-dns)');
    for (const o of clusterDnsObjects(l.clusterDNSIP, Math.min(2, l.nodes.length)))
      await client.req('POST', collectionPath(o as Obj), o);
    await waitFor('cluster DNS (deployment kube-system/coredns available)', runDir, async () => {
      const d = await client.get('/apis/apps/v1/namespaces/kube-system/deployments/coredns');
      return (d.status?.availableReplicas ?? 0) >= 1;
    });
    await waitFor(
      'the default ServiceAccount',
      runDir,
      async () =>
        (await client.getOrUndefined('/api/v1/namespaces/default/serviceaccounts/default')) !==
        undefined,
    );
  } finally {
    client.close();
  }
  return info(l);
}

function startNodeEmulator(l: ClusterLayout, n: ClusterLayout['nodes'][number]): Promise<number> {
  return startDaemon({
    name: `node-${n.name}`,
    command: 'nsenter',
    args: [
      `--net=/run/netns/${n.netns}`,
      '--',
      process.execPath,
      NODE_EMULATOR_MAIN,
      `${n.dir}/node.json`,
    ],
    runDir: `${l.stateDir}/run`,
    logDir: `${l.stateDir}/logs`,
  });
}

function startLbController(l: ClusterLayout): Promise<number> {
  return startLbControllerDaemon(l.stateDir, {
    clusterName: l.name,
    apiServerURL: l.apiServerURL,
    caFile: `${l.stateDir}/pki/ca.crt`,
    certFile: `${l.stateDir}/pki/lb-controller.crt`,
    keyFile: `${l.stateDir}/pki/lb-controller.key`,
    bridge: l.bridge,
    range: l.lbRange,
  });
}

/**
 * Stops the cluster's load-balancer controller and starts it again; the new one adopts the
 * addresses the Services show and the routes on the host. Resolves with its pid.
 */
export async function restartLbController(name: string): Promise<number> {
  const l = layoutOf(name);
  await stopLbControllerDaemon(l.stateDir, 5000);
  return startLbController(l);
}

/**
 * Stops a node's emulator and starts it again, as after a kubelet restart: the pods keep running
 * and the new emulator adopts them. Resolves with the new emulator's pid.
 */
export async function restartNodeEmulator(name: string, node: string): Promise<number> {
  const l = layoutOf(name);
  const n = l.nodes.find((x) => x.name === node);
  if (!n) throw new Error(`cluster ${name} has no node ${node}`);
  const pid = readPid(`${l.stateDir}/run/node-${n.name}.pid`);
  if (pid !== undefined) await stopPid(pid, 5000);
  return startNodeEmulator(l, n);
}

/** Polls until check() is true; fails early with the log tail of a control-plane process that died. */
async function waitFor(
  what: string,
  runDir: string,
  check: () => Promise<boolean>,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    for (const f of existsSync(runDir) ? readdirSync(runDir) : []) {
      const pid = readPid(`${runDir}/${f}`);
      if (pid !== undefined && !isAlive(pid)) {
        const name = f.replace(/\.pid$/, '');
        const logFile = `${runDir}/../logs/${name}.log`;
        const tail = existsSync(logFile)
          ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n')
          : '';
        throw new Error(`${name} exited while waiting for ${what}; last log lines:\n${tail}`);
      }
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function writeKubeconfigs(l: ClusterLayout): Promise<void> {
  const pki = `${l.stateDir}/pki`;
  await mkdir(`${l.stateDir}/kubeconfig`, { recursive: true });
  const caPem = await readFile(`${pki}/ca.crt`, 'utf8');
  const users: Array<[string, string]> = [
    ['admin', 'admin'],
    ['kube-controller-manager', 'kube-controller-manager'],
    ['kube-scheduler', 'kube-scheduler'],
    ['kube-proxy', 'kube-proxy'],
    ...l.nodes.map((n): [string, string] => [`node-${n.name}`, `node-${n.name}`]),
  ];
  for (const [user, file] of users) {
    const doc = renderKubeconfig({
      clusterName: l.name,
      server: l.apiServerURL,
      caPem,
      user,
      certPem: await readFile(`${pki}/${file}.crt`, 'utf8'),
      keyPem: await readFile(`${pki}/${file}.key`, 'utf8'),
    });
    await writeFile(kubeconfigPath(l.stateDir, user), doc, { mode: 0o600 });
  }
}

function info(l: ClusterLayout): ClusterInfo {
  const pid = readPid(`${l.stateDir}/run/kube-apiserver.pid`);
  return {
    name: l.name,
    nodes: l.nodes.length,
    stateDir: l.stateDir,
    kubeconfig: kubeconfigPath(l.stateDir, 'admin'),
    apiServer: l.apiServerURL,
    lbRange: l.lbRange,
    running: pid !== undefined && isAlive(pid),
  };
}

export function listClusters(): ClusterInfo[] {
  const dir = clustersDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !validateClusterName(n) && readRecord(`${dir}/${n}`))
    .map((n) => info(layoutOf(n)));
}

/** Removes every process, netns, link, mount point and file of the cluster; safe to repeat. */
export async function deleteCluster(
  name: string,
  opts: { quiet?: boolean } = {},
): Promise<boolean> {
  const err = validateClusterName(name);
  if (err) throw new Error(err);
  requireRoot();
  return withHostLock(clustersDir(), () => deleteClusterLocked(name, opts.quiet ?? false));
}

async function deleteClusterLocked(name: string, quiet: boolean): Promise<boolean> {
  const stateDir = `${clustersDir()}/${name}`;
  const prefix = netnsPrefix(name);
  const namespaces = (await listNetns()).filter((n) => n.startsWith(prefix));
  const bridge = `tl-${name}`.slice(0, 15);
  const found = existsSync(stateDir) || namespaces.length > 0 || (await linkExists(bridge));
  if (!found) {
    if (!quiet) throw new Error(`no local cluster named "${name}"`);
    return false;
  }
  // The load-balancer controller first, so it does not react to the nodes going away.
  await stopLbControllerDaemon(stateDir);
  // Node emulators, kube-proxy and every container live inside the cluster's netns.
  const nodesFirst = [
    ...namespaces.filter((n) => n.includes('.node')),
    ...namespaces.filter((n) => !n.includes('.node')),
  ];
  for (const ns of nodesFirst) await destroyNetns(ns);
  // A node emulator may have made a pod's netns after the list was read and before it was killed.
  for (const ns of (await listNetns()).filter((n) => n.startsWith(prefix))) await destroyNetns(ns);
  // Control plane top-down, so no component hangs on one that is already gone.
  for (const name of ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd']) {
    const pid = readPid(`${stateDir}/run/${name}.pid`);
    if (pid !== undefined) await stopPid(pid, 5000);
  }
  await stopAll(`${stateDir}/run`, 3000);
  // A deleted netns lingers in the kernel while orphaned sockets of killed processes time out;
  // deleting the host ends of the veths removes the pairs now instead.
  const veths = new Set(await bridgePorts(bridge));
  const rec = readRecord(stateDir);
  if (rec)
    for (let i = 1; i <= rec.nodes; i++)
      veths.add(clusterLayout(name, rec.slot, rec.nodes, clustersDir()).nodes[i - 1]!.hostVeth);
  for (const v of veths) await deleteLink(v);
  await deleteLink(bridge);
  // Another cluster's containers (in their own mount namespaces) may have a bind mount on one of
  // these paths: removing it on the host would detach their mounts, so such paths wait for the
  // last cluster using them.
  const inUse = mountPointsOfAllNamespaces();
  await releaseHostMountpoints(
    recordFileOf(stateDir),
    pendingFileOf(clustersDir()),
    (p) => inUse.has(p) || inUse.has(realPath(p)),
  );
  await unmountUnder(stateDir);
  await rm(stateDir, { recursive: true, force: true });
  return true;
}

function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Every mount point of every process's mount namespace (from /proc/<pid>/mountinfo). */
function mountPointsOfAllNamespaces(): Set<string> {
  const points = new Set<string>();
  const seen = new Set<string>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let ns: string;
    let info: string;
    try {
      ns = readlinkSync(`/proc/${pid}/ns/mnt`);
      if (seen.has(ns)) continue;
      info = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
    } catch {
      continue; // the process exited
    }
    seen.add(ns);
    for (const line of info.split('\n')) {
      const mountPoint = line.split(' ')[4];
      if (mountPoint) points.add(mountPoint.replace(/\\040/g, ' '));
    }
  }
  return points;
}

/** Lazily unmounts every mount at or below `dir` (the node dirs the emulators made rshared). */
async function unmountUnder(dir: string): Promise<void> {
  const { run } = await import('./exec.js');
  for (let round = 0; round < 5; round++) {
    const points = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'))
      .map((m) => m.mountPoint)
      .filter((p) => p === dir || p.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    if (points.length === 0) return;
    for (const p of points) await run('umount', ['-l', p], { allowFailure: true });
  }
}

/** Resident memory of every process of the cluster (control plane, node emulators, kube-proxy, containers). */
export async function clusterRssBytes(name: string): Promise<number> {
  const l = layoutOf(name);
  const pids = new Set<number>();
  const runDir = `${l.stateDir}/run`;
  for (const f of existsSync(runDir) ? readdirSync(runDir) : []) {
    const pid = readPid(`${runDir}/${f}`);
    if (pid !== undefined) {
      pids.add(pid);
      for (const d of descendants(pid)) pids.add(d);
    }
  }
  const { run } = await import('./exec.js');
  for (const ns of (await listNetns()).filter((n) => n.startsWith(l.netnsPrefix))) {
    for (const p of (await run('ip', ['netns', 'pids', ns], { allowFailure: true })).stdout
      .split('\n')
      .filter(Boolean))
      pids.add(Number(p));
  }
  let sum = 0;
  for (const p of pids) sum += rssBytes(p);
  return sum;
}
