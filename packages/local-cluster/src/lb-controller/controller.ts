// The local cluster's load-balancer controller, in the role a cloud provider's service controller
// (or cloud-provider-kind) plays elsewhere: it watches Services, Nodes and EndpointSlices, gives
// each LoadBalancer Service an address of the cluster's range, writes it to
// status.loadBalancer.ingress and routes it from the host to the nodes, where kube-proxy's rules
// for load-balancer addresses take the traffic to the endpoints. Runs on the host (it owns host
// routes), one per cluster, started by `cluster create`.
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeClient, type Obj } from '../kube-client.js';
import { deleteLbRoute, lbRoutes, setLbRoute } from './host-routes.js';
import {
  ANNOTATION_LB_IPS,
  planLoadBalancers,
  type StatusChange,
  type NodeView,
  type ServiceView,
} from './plan.pure.js';
import { parseLbRange, type LbRange } from './range.pure.js';

export interface LbControllerConfig {
  clusterName: string;
  apiServerURL: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The cluster's bridge on the host: the routes go on it. */
  bridge: string;
  /** The `--lb-range` text (CIDR or A-B). */
  range: string;
}

const COMPONENT = 'trellis-lb-controller';
/** Routes and status are checked this often even when nothing changes (someone may edit routes). */
const RESYNC_MS = 30_000;

const objKey = (o: Obj) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export function serviceView(o: Obj): ServiceView {
  return {
    uid: o.metadata.uid,
    namespace: o.metadata.namespace,
    name: o.metadata.name,
    creationTimestamp: o.metadata.creationTimestamp ?? '',
    type: o.spec?.type ?? 'ClusterIP',
    loadBalancerClass: o.spec?.loadBalancerClass || undefined,
    loadBalancerIP: o.spec?.loadBalancerIP || undefined,
    loadBalancerIPs: o.metadata.annotations?.[ANNOTATION_LB_IPS],
    externalTrafficPolicy: o.spec?.externalTrafficPolicy,
    ports: (o.spec?.ports ?? []).map((p: Obj) => ({
      port: p.port,
      protocol: p.protocol ?? 'TCP',
    })),
    ingress: o.status?.loadBalancer?.ingress ?? [],
    conditions: o.status?.conditions ?? [],
  };
}

function nodeView(o: Obj): NodeView {
  return {
    name: o.metadata.name,
    ip: (o.status?.addresses ?? []).find((a: Obj) => a.type === 'InternalIP')?.address ?? '',
    ready: (o.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True'),
  };
}

/** "namespace/service" -> nodes with a ready endpoint, from EndpointSlices. */
function endpointNodes(slices: Iterable<Obj>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const s of slices) {
    const svc = s.metadata.labels?.['kubernetes.io/service-name'];
    if (!svc) continue;
    const k = `${s.metadata.namespace}/${svc}`;
    const set = out.get(k) ?? new Set<string>();
    for (const e of s.endpoints ?? [])
      if (e.nodeName && e.conditions?.ready !== false) set.add(e.nodeName);
    out.set(k, set);
  }
  return out;
}

export class LbController {
  private readonly range: LbRange;
  private readonly client: KubeClient;
  private readonly services = new Map<string, Obj>();
  private readonly nodes = new Map<string, Obj>();
  private readonly slices = new Map<string, Obj>();
  private readonly listed = new Set<string>();
  private assigned = new Map<string, string[]>();
  private readonly reported = new Map<string, string>();
  private running = false;
  private again = false;

  constructor(
    private readonly cfg: LbControllerConfig,
    private readonly log: (line: string) => void,
  ) {
    this.range = parseLbRange(cfg.range);
    this.client = KubeClient.fromFiles(cfg.apiServerURL, cfg.caFile, cfg.certFile, cfg.keyFile);
  }

  /** Watches until the signal aborts. Routes stay: a restarted controller adopts them. */
  async run(signal: AbortSignal): Promise<void> {
    const watch = (path: string, store: Map<string, Obj>) =>
      this.client.listWatch(
        path,
        (e) => {
          if (e.type === 'DELETED') store.delete(objKey(e.object));
          else store.set(objKey(e.object), e.object);
          this.kick();
        },
        signal,
        () => {
          this.listed.add(path);
          this.kick();
        },
      );
    const resync = async () => {
      while (!signal.aborted) {
        await sleep(RESYNC_MS, undefined, { signal }).catch(() => undefined);
        this.kick();
      }
    };
    this.log(
      `serving LoadBalancer Services of cluster ${this.cfg.clusterName} from ${this.cfg.range}`,
    );
    await Promise.all([
      watch('/api/v1/services', this.services),
      watch('/api/v1/nodes', this.nodes),
      watch('/apis/discovery.k8s.io/v1/endpointslices', this.slices),
      resync(),
    ]);
    this.client.close();
  }

  /** Runs a reconcile now, or once more after the one in progress (never two at once). */
  private kick(): void {
    if (this.listed.size < 3) return; // a partial view would release addresses still in use
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      do {
        this.again = false;
        try {
          await this.reconcile();
        } catch (e) {
          this.log(`reconcile failed, retrying in 1 s: ${(e as Error).message}`);
          setTimeout(() => this.kick(), 1000).unref();
        }
      } while (this.again);
      this.running = false;
    })();
  }

  private async reconcile(): Promise<void> {
    const plan = planLoadBalancers({
      range: this.range,
      services: [...this.services.values()].map(serviceView),
      nodes: [...this.nodes.values()].map(nodeView).filter((n) => n.ip),
      endpointNodes: endpointNodes(this.slices.values()),
      assigned: this.assigned,
      now: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    this.assigned = plan.assigned;
    const bridge = this.cfg.bridge;
    const current = await lbRoutes(bridge, this.range);
    // Routes first, so an address is reachable from the host once a client sees it in status.
    for (const [ip, via] of plan.routes)
      if (via.length && current.get(ip)?.join() !== via.join()) {
        await setLbRoute(bridge, ip, via);
        this.log(`route ${ip} via ${via.join(', ')}`);
      }
    let failed: Error | undefined;
    for (const c of plan.status) {
      try {
        await this.writeStatus(c);
      } catch (e) {
        failed ??= e as Error;
      }
    }
    for (const ip of current.keys())
      if (!plan.routes.has(ip)) {
        await deleteLbRoute(ip);
        this.log(`released ${ip}`);
      }
    const problems = new Map(plan.problems.map((p) => [p.uid, p]));
    for (const [uid, p] of problems)
      if (this.reported.get(uid) !== p.message) {
        this.reported.set(uid, p.message);
        this.log(`${p.namespace}/${p.name}: ${p.message}`);
        await this.event(p.namespace, p.name, uid, 'Warning', 'AllocationFailed', p.message);
      }
    for (const uid of this.reported.keys()) if (!problems.has(uid)) this.reported.delete(uid);
    if (failed) throw failed;
  }

  private async writeStatus(c: StatusChange): Promise<void> {
    const { namespace, name, uid, ingress, conditions } = c;
    const path = `/api/v1/namespaces/${namespace}/services/${name}/status`;
    // The uid makes the patch fail on a Service recreated under the same name meanwhile.
    const patch = {
      metadata: { uid },
      status: {
        loadBalancer: { ingress: ingress.length ? ingress : null },
        conditions: conditions.length ? conditions : null,
      },
    };
    try {
      await this.client.req('PATCH', path, patch, 'application/merge-patch+json');
    } catch (e) {
      if (!this.services.has(`${namespace}/${name}`)) return; // deleted meanwhile
      throw e;
    }
    const ips = ingress.map((i) => i.ip);
    this.log(`${namespace}/${name}: status.loadBalancer.ingress ${ips.join(', ') || 'cleared'}`);
    if (ips.length)
      await this.event(
        namespace,
        name,
        uid,
        'Normal',
        'IPAllocated',
        `Assigned IP [${ips.map((ip) => `"${ip}"`).join(',')}]`,
      );
  }

  private async event(
    namespace: string,
    name: string,
    uid: string,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const now = new Date().toISOString();
    await this.client
      .req('POST', `/api/v1/namespaces/${namespace}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Service', namespace, name, uid },
        type,
        reason,
        message,
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: this.cfg.clusterName,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      })
      .catch((e: Error) => this.log(`cannot record event on ${namespace}/${name}: ${e.message}`));
  }
}
