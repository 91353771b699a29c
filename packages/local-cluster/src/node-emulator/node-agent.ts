// Registers the Node, keeps its Lease and status fresh, writes the primary CNI config once the
// controller manager assigns a pod CIDR.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeError, type Obj } from '../kube-client.js';
import { defaultConflist, pickConfFile } from '../cni.pure.js';
import {
  leaseObject,
  microTime,
  nodeObject,
  nodeStatus,
  type NodeFacts,
} from './node-object.pure.js';
import type { NodeContext } from './context.js';

export class NodeAgent {
  private facts: NodeFacts;
  private lastStatus: Obj;

  constructor(
    private readonly ctx: NodeContext,
    kubeletVersion: string,
  ) {
    this.facts = {
      name: ctx.nodeName,
      ip: ctx.nodeIP,
      kubeletVersion,
      kernelVersion: release(),
      ready: false,
      readyMessage: 'waiting for a pod CIDR',
    };
  }

  async register(): Promise<void> {
    const c = this.ctx.client;
    try {
      await c.req('POST', '/api/v1/nodes', nodeObject(this.facts));
    } catch (e) {
      if (!(e instanceof KubeError && e.status === 409)) throw e;
    }
    await this.patchStatus();
  }

  /** Waits for spec.podCIDR, writes the node's CNI config, and reports Ready. */
  async becomeReady(signal: AbortSignal): Promise<string> {
    let cidr: string | undefined;
    while (!cidr) {
      const node = await this.ctx.client.get(`/api/v1/nodes/${this.ctx.nodeName}`);
      cidr = node.spec.podCIDR;
      if (!cidr) await sleep(500, undefined, { signal });
    }
    const confDir = this.ctx.cni.confDir;
    await mkdir(confDir, { recursive: true });
    if (!pickConfFile(existsSync(confDir) ? readdirSync(confDir) : [])) {
      await writeFile(
        `${confDir}/10-trellis.conflist`,
        JSON.stringify(defaultConflist(cidr, `${this.ctx.nodeDir}/cni-ipam`), null, 2) + '\n',
      );
    }
    this.facts = { ...this.facts, ready: true, readyMessage: 'kubelet is posting ready status' };
    await this.patchStatus();
    return cidr;
  }

  async patchStatus(): Promise<void> {
    const status = nodeStatus(this.facts, new Date().toISOString(), this.lastStatus);
    await this.ctx.client.req(
      'PATCH',
      `/api/v1/nodes/${this.ctx.nodeName}/status`,
      { status },
      'application/merge-patch+json',
    );
    this.lastStatus = status;
  }

  async renewLease(): Promise<void> {
    const c = this.ctx.client;
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.ctx.nodeName}`;
    try {
      await c.req(
        'PATCH',
        path,
        { spec: { renewTime: microTime(new Date()), holderIdentity: this.ctx.nodeName } },
        'application/merge-patch+json',
      );
    } catch (e) {
      if (!(e instanceof KubeError && e.status === 404)) throw e;
      const node = await c.get(`/api/v1/nodes/${this.ctx.nodeName}`);
      await c.req(
        'POST',
        '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases',
        leaseObject(this.ctx.nodeName, node.metadata.uid, new Date()),
      );
    }
  }

  /** Heartbeats: Lease every 10 s, status every 30 s, until aborted. */
  async heartbeat(signal: AbortSignal): Promise<void> {
    let n = 0;
    while (!signal.aborted) {
      try {
        await this.renewLease();
        if (n++ % 3 === 0) await this.patchStatus();
      } catch (e) {
        console.error(`heartbeat: ${(e as Error).message}`);
      }
      await sleep(10_000, undefined, { signal }).catch(() => undefined);
    }
  }
}
