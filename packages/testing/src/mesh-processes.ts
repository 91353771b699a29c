// The real binaries of a mesh on a NetnsCluster: one trellis-ca inside node 1's netns and one
// trellis-ztunnel per node inside that node's netns, in in-pod mode fed by the node's ZdsServer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpInNetns } from './http-in-netns.js';
import type { Node } from './netns-cluster.js';
import { Spawned, type LogLine } from './spawned.js';

const sibling = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
/** The built binaries of the sibling packages (build them first). */
export const CA_MAIN = sibling('../../ca/dist/main.js');
export const ZTUNNEL_MAIN = sibling('../../ztunnel/dist/main.js');

export const CA_PORT = 15012;
export const ADMIN_PORT = 15000;
export const METRICS_PORT = 15020;
export const READINESS_PORT = 15021;

/** Runs `node <main> args` inside `netns`. */
function spawnIn(name: string, netns: string, main: string, args: string[]): Spawned {
  return new Spawned(name, 'ip', ['netns', 'exec', netns, process.execPath, main, ...args]);
}

/** Polls `check` until it returns a value; fails with `what` and the process state after `attempts`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  opts: { proc?: Spawned; attempts?: number; intervalMs?: number } = {},
): Promise<T> {
  const attempts = opts.attempts ?? 300;
  let last = '';
  for (let i = 0; i < attempts; i++) {
    if (opts.proc && !opts.proc.running) throw new Error(`${what}: ${opts.proc.describe()}`);
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
  throw new Error(
    `gave up waiting for ${what}${last ? ` (last error: ${last})` : ''}${opts.proc ? `; ${opts.proc.describe()}` : ''}`,
  );
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
    await waitFor(
      'trellis-ca to serve',
      () => (proc.lines.some((l) => l.msg === 'trellis-ca serving') ? true : undefined),
      { proc },
    );
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

export interface ZtunnelOptions {
  /** The CA (trellis-ca, or a control plane's embedded CA: address and root). */
  ca: Pick<CaProcess, 'address' | 'rootPath'>;
  tokenPath: string;
  /** Workloads from this file (--local-config)... */
  localConfigPath?: string;
  /** ...or from a control plane's WDS at this address (TLS, the token above). */
  xdsAddress?: string;
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
      'inpod',
      '--node-name',
      node.name,
      '--pod-namespace',
      'trellis-system',
      '--service-account',
      'ztunnel',
      ...(opts.xdsAddress !== undefined
        ? [
            '--xds-address',
            opts.xdsAddress,
            '--pod-ip',
            node.ip,
            '--pod-name',
            `ztunnel-${node.name}`,
          ]
        : ['--local-config', opts.localConfigPath ?? '']),
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
    ]);
  }

  get netnsPath(): string {
    return `/run/netns/${this.node.netns}`;
  }

  /** Waits until /healthz/ready answers 200. */
  async ready(): Promise<void> {
    await waitFor(
      `${this.proc.name} /healthz/ready`,
      async () =>
        (await this.get(READINESS_PORT, '/healthz/ready')).status === 200 ? true : undefined,
      { proc: this.proc },
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
