// LoadBalancer Services on kind clusters: `cluster create --provider kind` starts the local
// cluster's load-balancer controller for the cluster on this host (addresses from the top of the
// kind network's subnet, or --lb-range; each routed over the network's bridge to a node, where
// kube-proxy takes it), `cluster delete` stops it and removes its routes. Its state (config,
// credentials, pid file, log) lives in kindStateDir(name). Decisions are kind-lb.pure.ts's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  deleteLbRoute,
  hostRoutes,
  inRange,
  LB_CONTROLLER_USER,
  lbControllerLogFile,
  lbControllerRbac,
  lbRoutes,
  listClusters,
  parseLbRange,
  rangeConflict,
  startLbControllerDaemon,
  stopLbControllerDaemon,
  type LbControllerConfig,
  type LbRange,
} from '@trellis/local-cluster';
import {
  defaultKindLbRange,
  kindLbUnsupported,
  kindNetworkFacts,
  kubeconfigCredentials,
  type KindNetworkFacts,
} from './kind-lb.pure.js';

/** Where the state of a kind cluster's load-balancer controller lives on this host. */
function kindStateDir(name: string): string {
  return join(process.env['TRELLIS_KIND_STATE_DIR'] ?? '/var/lib/trellis/kind', name);
}

function sh(cmd: string, args: readonly string[], input?: string) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 16 << 20 });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr || r.stdout || '').trim()}`,
    );
  return r.stdout;
}

function readConfig(stateDir: string): LbControllerConfig | undefined {
  const f = join(stateDir, 'lb-controller.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as LbControllerConfig) : undefined;
}

/** The ranges of the other kind clusters whose controllers this host runs, and of local clusters. */
function otherRanges(name: string): Array<{ name: string; range: LbRange }> {
  const root = kindStateDir('');
  const kind = existsSync(root)
    ? readdirSync(root)
        .filter((n) => n !== name)
        .flatMap((n) => {
          const cfg = readConfig(join(root, n));
          return cfg ? [{ name: `${n} (kind)`, range: parseLbRange(cfg.range) }] : [];
        })
    : [];
  return [
    ...kind,
    ...listClusters().map((c) => ({ name: c.name, range: parseLbRange(c.lbRange) })),
  ];
}

export interface KindLbOptions {
  readonly name: string;
  readonly network: string;
  /** kind's kubeconfig of the cluster (the server and CA the controller uses). */
  readonly kubeconfig: string;
  /** --lb-range, when given. */
  readonly range: string | undefined;
  readonly log: (line: string) => void;
}

/**
 * Starts the cluster's load-balancer controller; returns its range, or undefined when this host
 * cannot route to kind's nodes (said in the log; an error when --lb-range asked for it).
 */
export async function startKindLb(o: KindLbOptions): Promise<string | undefined> {
  const facts: KindNetworkFacts = kindNetworkFacts(
    sh('docker', ['network', 'inspect', o.network]),
    o.network,
  );
  const why = kindLbUnsupported({
    platform: process.platform,
    uid: process.getuid?.(),
    bridgeOnHost:
      process.platform === 'linux' && existsSync(`/sys/class/net/${facts.bridge}/bridge`),
    bridge: facts.bridge,
  });
  if (why) {
    if (o.range !== undefined) throw new Error(`--lb-range cannot be served here: ${why}`);
    o.log(`LoadBalancer Services get no address: ${why}`);
    return undefined;
  }
  const range = parseLbRange(o.range ?? defaultKindLbRange(facts.subnet));
  const conflict = rangeConflict(range, {
    nodeSubnet: facts.subnet,
    bridge: facts.bridge,
    otherClusters: otherRanges(o.name),
    hostRoutes: await hostRoutes(),
  });
  if (conflict) throw new Error(conflict);
  const nodeIPs = sh('docker', [
    'network',
    'inspect',
    o.network,
    '--format',
    '{{range .Containers}}{{.IPv4Address}} {{end}}',
  ])
    .split(/\s+/)
    .filter(Boolean)
    .map((a) => a.split('/')[0]!);
  const taken = nodeIPs.filter((ip) => inRange(range, ip));
  if (taken.length)
    throw new Error(
      `--lb-range ${range.text} holds ${taken.join(', ')}, address(es) of containers on ${o.network}`,
    );

  const node = `${o.name}-control-plane`;
  // A client certificate of its own, signed by the cluster's CA, for the user lbControllerRbac
  // grants what the controller needs (kind's kubeconfig is the cluster admin).
  const own = kubeconfigCredentials(
    sh('docker', [
      'exec',
      node,
      'kubeadm',
      'kubeconfig',
      'user',
      '--client-name',
      LB_CONTROLLER_USER,
    ]),
  );
  const kind = kubeconfigCredentials(readFileSync(o.kubeconfig, 'utf8'));
  sh(
    'docker',
    ['exec', '-i', node, 'kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', 'apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: lbControllerRbac() }),
  );
  const stateDir = kindStateDir(o.name);
  mkdirSync(join(stateDir, 'pki'), { recursive: true, mode: 0o700 });
  const pki = (f: string, pem: string) => {
    writeFileSync(join(stateDir, 'pki', f), pem, { mode: 0o600 });
    return join(stateDir, 'pki', f);
  };
  await stopLbControllerDaemon(stateDir);
  await startLbControllerDaemon(stateDir, {
    clusterName: o.name,
    apiServerURL: kind.server,
    caFile: pki('ca.crt', kind.caPem),
    certFile: pki('lb-controller.crt', own.certPem),
    keyFile: pki('lb-controller.key', own.keyPem),
    bridge: facts.bridge,
    range: range.text,
  });
  o.log(
    `LoadBalancer Services get addresses from ${range.text}, routed over ${facts.bridge} (log: ${lbControllerLogFile(stateDir)})`,
  );
  return range.text;
}

/** Stops the cluster's controller, removes its host routes and its state; safe to repeat. */
export async function stopKindLb(name: string): Promise<void> {
  const stateDir = kindStateDir(name);
  if (!existsSync(stateDir)) return;
  await stopLbControllerDaemon(stateDir);
  const cfg = readConfig(stateDir);
  if (cfg && existsSync(`/sys/class/net/${cfg.bridge}`))
    for (const ip of (await lbRoutes(cfg.bridge, parseLbRange(cfg.range))).keys())
      await deleteLbRoute(ip);
  rmSync(stateDir, { recursive: true, force: true });
}

/** The range the cluster's controller serves, when it has one. */
export function kindLbRange(name: string): string | undefined {
  return readConfig(kindStateDir(name))?.range;
}
