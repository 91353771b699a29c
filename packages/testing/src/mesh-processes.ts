// The real binaries of a mesh on a NetnsCluster: one trellis-ca inside node 1's netns and one
// trellis-ztunnel per node inside that node's netns, in in-pod mode fed by the node's ZdsServer.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpInNetns } from './http-in-netns.js';
import { ZTUNNEL_NAMESPACE } from './mesh-config.js';
import type { Node } from './netns-cluster.js';
import { eventually, Spawned, START_TIMEOUT_MS, type LogLine } from '@trellis/core/test-support';

const sibling = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
/** The built programs of the sibling packages, as their images run them (build them first). */
export const CA_MAIN = sibling('../../ca/dist/main.js');
export const ZTUNNEL_MAIN = sibling('../../ztunnel/dist/trellis-ztunnel.mjs');
export const CONTROL_PLANE_MAIN = sibling('../../control-plane/dist/trellis-control-plane.mjs');

export const CA_PORT = 15012;
export const ADMIN_PORT = 15000;
export const METRICS_PORT = 15020;
export const READINESS_PORT = 15021;

/** Runs `node <main> args` inside `netns`. */
function spawnIn(name: string, netns: string, main: string, args: string[]): Spawned {
  return new Spawned(name, 'ip', ['netns', 'exec', netns, process.execPath, main, ...args]);
}

export interface CaProcess {
  readonly proc: Spawned;
  /** host:port the nodes reach it at. */
  readonly address: string;
  readonly rootPath: string;
  readonly rootPem: string;
}

/** trellis-ca with static tokens, listening on `node.ip` inside the node's netns. */
export async function startCaIn(
  node: Node,
  opts: { dir: string; tokensPath: string },
): Promise<CaProcess> {
  const caDir = join(opts.dir, 'ca');
  const proc = spawnIn('trellis-ca', node.netns, CA_MAIN, [
    '--listen',
    `${node.ip}:${CA_PORT}`,
    '--ca-dir',
    caDir,
    '--static-tokens',
    opts.tokensPath,
    '--metrics-port',
    '-1',
  ]);
  try {
    await proc.waitForLine('that it serves', (l) => l.msg === 'trellis-ca serving');
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  const rootPath = join(caDir, 'root-cert.pem');
  return {
    proc,
    address: `${node.ip}:${CA_PORT}`,
    rootPath,
    rootPem: readFileSync(rootPath, 'utf8'),
  };
}

/**
 * trellis-control-plane in cluster mode (`kubeconfig`, controllers off) inside the node's netns:
 * WDS and its embedded CA (static tokens; root in Secret istio-ca-secret of `systemNamespace`) on
 * `node.ip`:15012. Stands in for trellis-ca too; `readRoot` reads the published root
 * (ConfigMap istio-ca-root-cert), which is written to a file for ztunnel.
 */
export async function startControlPlaneIn(
  node: Node,
  opts: {
    dir: string;
    tokensPath: string;
    kubeconfig: string;
    systemNamespace: string;
    readRoot: () => string | undefined;
  },
): Promise<CaProcess> {
  const proc = spawnIn('trellis-control-plane', node.netns, CONTROL_PLANE_MAIN, [
    `--kubeconfig=${opts.kubeconfig}`,
    '--xds-address=off',
    `--secure-xds-address=${node.ip}:${CA_PORT}`,
    '--debug-address=off',
    `--static-tokens=${opts.tokensPath}`,
    '--controllers=false',
    `--system-namespace=${opts.systemNamespace}`,
  ]);
  try {
    await eventually(
      'trellis-control-plane to serve',
      () => proc.lines.some((l) => l.msg === 'trellis-control-plane serving'),
      {
        timeoutMs: START_TIMEOUT_MS,
        failFast: () => (proc.running ? undefined : proc.describe()),
        detail: () => proc.describe(),
      },
    );
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  const rootPem = await eventually('the mesh root to be published', opts.readRoot, {
    failFast: () => (proc.running ? undefined : proc.describe()),
    detail: () => proc.describe(),
  });
  const rootPath = join(opts.dir, 'control-plane-root.pem');
  writeFileSync(rootPath, rootPem);
  return { proc, address: `${node.ip}:${CA_PORT}`, rootPath, rootPem };
}

export interface ZtunnelOptions {
  /** The CA (trellis-ca, or a control plane's embedded CA: address and root). */
  ca: Pick<CaProcess, 'address' | 'rootPath'>;
  tokenPath: string;
  /** --pod-namespace: ztunnel's own namespace, the one its token is for (default istio-system). */
  podNamespace?: string;
  /** --local-config; without it ztunnel takes WDS from `xdsAddress`. */
  localConfigPath?: string;
  xdsAddress?: string;
  /** --dns-resolv-conf: where the DNS proxy forwards (default ztunnel's /etc/resolv.conf). */
  dnsResolvConf?: string;
  zdsSocket: string;
  drainMs?: number;
  logLevel?: string;
  /** --workers; unset: ztunnel's default (one per CPU). */
  workers?: number;
}

export class ZtunnelProcess {
  readonly node: Node;
  readonly proc: Spawned;

  constructor(node: Node, opts: ZtunnelOptions) {
    this.node = node;
    this.proc = spawnIn(`trellis-ztunnel on ${node.name}`, node.netns, ZTUNNEL_MAIN, [
      '--proxy-mode',
      'shared',
      '--node-name',
      node.name,
      '--pod-namespace',
      opts.podNamespace ?? ZTUNNEL_NAMESPACE,
      '--service-account',
      'ztunnel',
      ...(opts.localConfigPath
        ? ['--local-config', opts.localConfigPath]
        : ['--xds-address', opts.xdsAddress ?? opts.ca.address]),
      '--zds-socket',
      opts.zdsSocket,
      '--ca-address',
      opts.ca.address,
      '--ca-root-cert',
      opts.ca.rootPath,
      '--token-path',
      opts.tokenPath,
      '--admin-address',
      `${node.ip}:${ADMIN_PORT}`,
      '--metrics-address',
      `${node.ip}:${METRICS_PORT}`,
      '--readiness-address',
      `${node.ip}:${READINESS_PORT}`,
      '--drain-timeout',
      `${opts.drainMs ?? 5000}ms`,
      '--log-level',
      opts.logLevel ?? 'info',
      ...(opts.workers !== undefined ? ['--workers', String(opts.workers)] : []),
      ...(opts.dnsResolvConf ? ['--dns-resolv-conf', opts.dnsResolvConf] : []),
    ]);
  }

  get netnsPath(): string {
    return `/run/netns/${this.node.netns}`;
  }

  /** Waits until /healthz/ready answers 200. */
  async ready(): Promise<void> {
    await eventually(
      `${this.proc.name} /healthz/ready`,
      async () => (await this.get(READINESS_PORT, '/healthz/ready')).status === 200,
      {
        timeoutMs: START_TIMEOUT_MS,
        failFast: () => (this.proc.running ? undefined : this.proc.describe()),
        detail: () => this.proc.describe(),
      },
    );
  }

  get(port: number, path: string, method: 'GET' | 'POST' = 'GET') {
    return httpInNetns(this.netnsPath, this.node.ip, port, path, method);
  }

  async metrics(): Promise<string> {
    return (await this.get(METRICS_PORT, '/metrics')).body;
  }

  /** The access log so far: one entry per finished connection. */
  accessLog(): LogLine[] {
    return this.proc.lines.filter((l) => l.scope === 'access');
  }

  /** Re-reads --local-config. */
  reload(): void {
    this.proc.child.kill('SIGHUP');
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    return this.proc.stop(signal);
  }
}
