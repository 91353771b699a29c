// A whole in-pod mesh on a NetnsCluster whose pods are already added: static tokens and local config
// in a temp dir, trellis-ca in node 1's netns, and per node a ZdsServer (knowing that node's mesh
// pods) and a trellis-ztunnel in the node's netns. close() stops everything and removes the dir.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { meshLocalConfig, meshTokens, ztunnelToken, type LocalPolicy } from './mesh-config.js';
import { startCaIn, ZtunnelProcess, type CaProcess } from './mesh-processes.js';
import type { NetnsCluster, Node } from './netns-cluster.js';
import { ZdsServer } from './zds-server.js';

export interface MeshNode {
  readonly node: Node;
  readonly zds: ZdsServer;
  ztunnel: ZtunnelProcess;
}

export interface MeshOptions {
  policies?: LocalPolicy[];
  drainMs?: number;
  logLevel?: string;
  /** ztunnel --workers. */
  workers?: number;
}

export class Mesh {
  readonly cluster: NetnsCluster;
  readonly dir: string;
  readonly localConfigPath: string;
  readonly nodes: MeshNode[] = [];
  ca!: CaProcess;
  readonly #opts: MeshOptions;

  private constructor(cluster: NetnsCluster, opts: MeshOptions) {
    this.cluster = cluster;
    this.#opts = opts;
    this.dir = mkdtempSync(join(tmpdir(), `trellis-mesh-${cluster.runId}-`));
    this.localConfigPath = join(this.dir, 'local.json');
  }

  /** Starts the CA and one ready ztunnel per node (each has taken its node's ZDS snapshot). */
  static async start(cluster: NetnsCluster, opts: MeshOptions = {}): Promise<Mesh> {
    const mesh = new Mesh(cluster, opts);
    try {
      await mesh.#start();
    } catch (err) {
      await mesh.close();
      throw err;
    }
    return mesh;
  }

  async #start(): Promise<void> {
    const tokensPath = join(this.dir, 'tokens.json');
    writeFileSync(tokensPath, JSON.stringify(meshTokens(this.cluster)));
    this.writeConfig(this.#opts.policies ?? []);
    this.ca = await startCaIn(this.cluster.nodes[0]!, { dir: this.dir, tokensPath });
    for (const node of this.cluster.nodes) {
      const zds = new ZdsServer(join(this.dir, `zds-${node.name}.sock`));
      for (const pod of node.pods.filter((p) => p.redirected))
        await zds.addPod({ ...pod, netnsPath: pod.netnsPath });
      writeFileSync(
        join(this.dir, `token-${node.name}`),
        ztunnelToken(node.name, this.cluster.runId),
      );
      const entry: MeshNode = { node, zds, ztunnel: undefined as unknown as ZtunnelProcess };
      this.nodes.push(entry);
      await this.startZtunnel(entry);
    }
  }

  /** Starts (or restarts) the node's ztunnel and waits for readiness and its ZDS snapshot. */
  async startZtunnel(entry: MeshNode): Promise<ZtunnelProcess> {
    const snapshot = entry.zds.nextSnapshot();
    entry.ztunnel = new ZtunnelProcess(entry.node, {
      ca: this.ca,
      tokenPath: join(this.dir, `token-${entry.node.name}`),
      localConfigPath: this.localConfigPath,
      zdsSocket: entry.zds.path,
      ...(this.#opts.drainMs !== undefined ? { drainMs: this.#opts.drainMs } : {}),
      ...(this.#opts.logLevel !== undefined ? { logLevel: this.#opts.logLevel } : {}),
      ...(this.#opts.workers !== undefined ? { workers: this.#opts.workers } : {}),
    });
    await entry.ztunnel.ready();
    await Promise.race([
      snapshot,
      entry.ztunnel.proc.exited.then(() => {
        throw new Error(`before its ZDS snapshot: ${entry.ztunnel.proc.describe()}`);
      }),
    ]);
    return entry.ztunnel;
  }

  /** Rewrites the local config (all pods, these policies); ztunnels see it after reload(). */
  writeConfig(policies: LocalPolicy[]): void {
    writeFileSync(this.localConfigPath, meshLocalConfig(this.cluster, policies));
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.ztunnel?.stop('SIGKILL')));
    for (const n of this.nodes) n.zds.close();
    await this.ca?.proc.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
