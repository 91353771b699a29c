// What the load-balancer controller wants the world to look like, from what it watches: which
// Service holds which address of the range, the status each Service should show, and the host
// route of each address. Pure: the controller (controller.ts) reads the API and applies the plan.
import { intToIpv4, inRange, ipv4ToInt, type LbRange } from './range.pure.js';

export interface ServicePort {
  port: number;
  protocol: string;
}

/** The fields of a Service the controller reads. */
export interface ServiceView {
  uid: string;
  namespace: string;
  name: string;
  creationTimestamp: string;
  type: string;
  loadBalancerClass?: string;
  /** spec.loadBalancerIP: deprecated upstream but still how a user asks for one address. */
  loadBalancerIP?: string;
  externalTrafficPolicy?: string;
  ports: ServicePort[];
  /** status.loadBalancer.ingress as the API has it now. */
  ingress: Array<{ ip?: string; ipMode?: string; ports?: ServicePort[] }>;
}

export interface NodeView {
  name: string;
  ip: string;
  ready: boolean;
}

export interface LbIngress {
  ip: string;
  ipMode: 'VIP';
  ports: ServicePort[];
}

export interface PlanInput {
  range: LbRange;
  services: readonly ServiceView[];
  nodes: readonly NodeView[];
  /** Per "namespace/name" of a Service: the nodes that run one of its ready endpoints. */
  endpointNodes: ReadonlyMap<string, ReadonlySet<string>>;
  /** Addresses this controller gave out earlier (by Service uid), whether or not the API shows them yet. */
  assigned: ReadonlyMap<string, string>;
}

export interface StatusChange {
  namespace: string;
  name: string;
  uid: string;
  ingress: LbIngress[];
}

export interface Problem {
  namespace: string;
  name: string;
  uid: string;
  message: string;
}

export interface Plan {
  /** Service uid -> address, for every Service this controller serves that got one. */
  assigned: Map<string, string>;
  /** Services whose status.loadBalancer.ingress must change. */
  status: StatusChange[];
  /** Address -> the node IPs the host routes it via (sorted). */
  routes: Map<string, string[]>;
  /** Services that want an address and cannot have one, and why. */
  problems: Problem[];
}

/** The Services this controller serves: type LoadBalancer without a loadBalancerClass of another implementation. */
export function isServed(s: ServiceView): boolean {
  return s.type === 'LoadBalancer' && !s.loadBalancerClass;
}

const key = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

function byAge(a: ServiceView, b: ServiceView): number {
  if (a.creationTimestamp !== b.creationTimestamp)
    return a.creationTimestamp < b.creationTimestamp ? -1 : 1;
  return key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
}

export function planLoadBalancers(input: PlanInput): Plan {
  const { range } = input;
  const served = input.services.filter(isServed).sort(byAge);
  const taken = new Set<string>();
  const assigned = new Map<string, string>();
  const problems: Problem[] = [];

  // Keep what each Service already holds (from this run or the API: a restarted controller
  // adopts the addresses in status), oldest Service first when two claim the same address.
  for (const s of served) {
    const held =
      input.assigned.get(s.uid) ??
      s.ingress.map((i) => i.ip).find((ip) => ip !== undefined && inRange(range, ip));
    if (held === undefined || !inRange(range, held) || taken.has(held)) continue;
    if (s.loadBalancerIP && s.loadBalancerIP !== held) continue; // asked for another one
    taken.add(held);
    assigned.set(s.uid, held);
  }
  let next = range.first;
  for (const s of served) {
    if (assigned.has(s.uid)) continue;
    const problem = (message: string) =>
      problems.push({ namespace: s.namespace, name: s.name, uid: s.uid, message });
    if (s.loadBalancerIP) {
      if (!inRange(range, s.loadBalancerIP))
        problem(
          `spec.loadBalancerIP ${s.loadBalancerIP} is not in the cluster's load-balancer range ${range.text} (${intToIpv4(range.first)}-${intToIpv4(range.last)})`,
        );
      else if (taken.has(s.loadBalancerIP))
        problem(`spec.loadBalancerIP ${s.loadBalancerIP} is already in use by another Service`);
      else {
        taken.add(s.loadBalancerIP);
        assigned.set(s.uid, s.loadBalancerIP);
      }
      continue;
    }
    while (next <= range.last && taken.has(intToIpv4(next))) next++;
    if (next > range.last) {
      problem(
        `no free address in the cluster's load-balancer range ${range.text} (${taken.size} in use)`,
      );
      continue;
    }
    const ip = intToIpv4(next);
    taken.add(ip);
    assigned.set(s.uid, ip);
  }

  const status: StatusChange[] = [];
  const routes = new Map<string, string[]>();
  const ready = input.nodes.filter((n) => n.ready);
  const candidates = ready.length ? ready : input.nodes;
  for (const s of input.services) {
    const ip = assigned.get(s.uid);
    let want: LbIngress[];
    if (ip !== undefined) {
      want = [{ ip, ipMode: 'VIP', ports: s.ports.map((p) => ({ ...p })) }];
      routes.set(ip, nextHops(s, candidates, input.endpointNodes));
    } else if (
      isServed(s) ||
      (s.type !== 'LoadBalancer' && s.ingress.some((i) => i.ip && inRange(range, i.ip)))
    ) {
      // Served but without an address, or no longer a LoadBalancer: clear it. A Service of
      // another implementation (loadBalancerClass) keeps whatever it shows.
      want = [];
    } else continue;
    if (!sameIngress(s.ingress, want))
      status.push({ namespace: s.namespace, name: s.name, uid: s.uid, ingress: want });
  }
  return { assigned, status, routes, problems };
}

/**
 * externalTrafficPolicy Cluster: every Ready node (kube-proxy there forwards to any endpoint).
 * Local: only the nodes with a ready endpoint, as a cloud load balancer's health checks would
 * pick them (kube-proxy drops such traffic on the others); all Ready nodes while there is none.
 */
function nextHops(
  s: ServiceView,
  nodes: readonly NodeView[],
  endpointNodes: ReadonlyMap<string, ReadonlySet<string>>,
): string[] {
  let chosen = nodes;
  if (s.externalTrafficPolicy === 'Local') {
    const withEndpoints = endpointNodes.get(key(s));
    const local = nodes.filter((n) => withEndpoints?.has(n.name));
    if (local.length) chosen = local;
  }
  return chosen.map((n) => n.ip).sort((a, b) => (ipv4ToInt(a) ?? 0) - (ipv4ToInt(b) ?? 0));
}

function sameIngress(have: ServiceView['ingress'], want: LbIngress[]): boolean {
  const norm = (i: ServiceView['ingress'][number]) =>
    JSON.stringify([i.ip, i.ipMode, (i.ports ?? []).map((p) => [p.port, p.protocol])]);
  return have.length === want.length && want.every((w, i) => norm(have[i]!) === norm(w));
}
