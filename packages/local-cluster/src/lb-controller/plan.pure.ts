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
  /** The annotation `metallb.io/loadBalancerIPs` as written: addresses asked for, comma-separated. */
  loadBalancerIPs?: string;
  externalTrafficPolicy?: string;
  ports: ServicePort[];
  /** status.loadBalancer.ingress as the API has it now. */
  ingress: Array<{ ip?: string; ipMode?: string; ports?: ServicePort[] }>;
  /** status.conditions as the API has it now. */
  conditions?: ServiceCondition[];
}

/** A Service status condition (metav1.Condition). */
export interface ServiceCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
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
  assigned: ReadonlyMap<string, readonly string[]>;
  /** The time written as a new condition's lastTransitionTime (RFC 3339). */
  now?: string;
}

export interface StatusChange {
  namespace: string;
  name: string;
  uid: string;
  ingress: LbIngress[];
  /** The whole status.conditions list to write: the Service's own, with ours set or removed. */
  conditions: ServiceCondition[];
}

/** Why a Service has no address: what it asked for cannot be given, or the range is full. */
export type ProblemReason = 'AddressNotUsable' | 'AddressPoolExhausted';

export interface Problem {
  namespace: string;
  name: string;
  uid: string;
  reason: ProblemReason;
  message: string;
}

export interface Plan {
  /** Service uid -> its addresses, for every Service this controller serves that got them. */
  assigned: Map<string, string[]>;
  /** Services whose status (load-balancer ingress or our condition) must change. */
  status: StatusChange[];
  /** Address -> the node IPs the host routes it via (sorted). */
  routes: Map<string, string[]>;
  /** Services that want an address and cannot have one, and why. */
  problems: Problem[];
}

/** MetalLB's annotation asking for given addresses (comma-separated); honoured here too. */
export const ANNOTATION_LB_IPS = 'metallb.io/loadBalancerIPs';

/**
 * The Service status condition this controller writes while a Service it serves has no address:
 * status True, reason AddressNotUsable (the addresses asked for are outside the range, taken, or
 * not IPv4 addresses) or AddressPoolExhausted; removed once the Service has its addresses.
 */
export const CONDITION_LB_ADDRESS_ERROR = 'LoadBalancerAddressError';

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

/** The addresses a Service asks for (the annotation, else spec.loadBalancerIP) and where it says so. */
function requested(s: ServiceView): { ips: string[]; where: string } | undefined {
  if (s.loadBalancerIPs !== undefined) {
    const ips = s.loadBalancerIPs
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
    if (ips.length) return { ips, where: `annotation ${ANNOTATION_LB_IPS}` };
  }
  return s.loadBalancerIP ? { ips: [s.loadBalancerIP], where: 'spec.loadBalancerIP' } : undefined;
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

export function planLoadBalancers(input: PlanInput): Plan {
  const { range } = input;
  const served = input.services.filter(isServed).sort(byAge);
  const taken = new Set<string>();
  const assigned = new Map<string, string[]>();
  const problems: Problem[] = [];

  // Keep what each Service already holds (from this run or the API: a restarted controller
  // adopts the addresses in status), oldest Service first when two claim the same address.
  for (const s of served) {
    const held =
      input.assigned.get(s.uid) ??
      s.ingress.flatMap((i) => (i.ip !== undefined && inRange(range, i.ip) ? [i.ip] : []));
    if (!held.length || held.some((ip) => !inRange(range, ip) || taken.has(ip))) continue;
    const want = requested(s);
    if (want ? !sameSet(want.ips, held) : held.length > 1) continue; // asked for others
    for (const ip of held) taken.add(ip);
    assigned.set(s.uid, [...held]);
  }
  let next = range.first;
  for (const s of served) {
    if (assigned.has(s.uid)) continue;
    const problem = (reason: ProblemReason, message: string) =>
      problems.push({ namespace: s.namespace, name: s.name, uid: s.uid, reason, message });
    const want = requested(s);
    if (want) {
      const malformed = want.ips.filter((ip) => ipv4ToInt(ip) === undefined);
      const outside = want.ips.filter((ip) => !malformed.includes(ip) && !inRange(range, ip));
      const inUse = want.ips.filter((ip) => taken.has(ip));
      const dup = want.ips.filter((ip, i) => want.ips.indexOf(ip) !== i);
      if (malformed.length)
        problem('AddressNotUsable', `${want.where}: not an IPv4 address: ${malformed.join(', ')}`);
      else if (outside.length)
        problem(
          'AddressNotUsable',
          `${want.where}: ${outside.join(', ')} ${outside.length > 1 ? 'are' : 'is'} not in the cluster's load-balancer range ${range.text} (${intToIpv4(range.first)}-${intToIpv4(range.last)})`,
        );
      else if (dup.length)
        problem('AddressNotUsable', `${want.where}: ${dup.join(', ')} listed twice`);
      else if (inUse.length)
        problem(
          'AddressNotUsable',
          `${want.where}: ${inUse.join(', ')} ${inUse.length > 1 ? 'are' : 'is'} already in use by another Service`,
        );
      else {
        for (const ip of want.ips) taken.add(ip);
        assigned.set(s.uid, [...want.ips]);
      }
      continue;
    }
    while (next <= range.last && taken.has(intToIpv4(next))) next++;
    if (next > range.last) {
      problem(
        'AddressPoolExhausted',
        `no free address in the cluster's load-balancer range ${range.text} (${taken.size} in use)`,
      );
      continue;
    }
    const ip = intToIpv4(next);
    taken.add(ip);
    assigned.set(s.uid, [ip]);
  }

  const status: StatusChange[] = [];
  const routes = new Map<string, string[]>();
  const ready = input.nodes.filter((n) => n.ready);
  const candidates = ready.length ? ready : input.nodes;
  const problemOf = new Map(problems.map((p) => [p.uid, p]));
  for (const s of input.services) {
    const ips = assigned.get(s.uid);
    let want: LbIngress[];
    if (ips !== undefined) {
      want = ips.map((ip) => ({ ip, ipMode: 'VIP', ports: s.ports.map((p) => ({ ...p })) }));
      for (const ip of ips) routes.set(ip, nextHops(s, candidates, input.endpointNodes));
    } else if (
      isServed(s) ||
      (s.type !== 'LoadBalancer' && s.ingress.some((i) => i.ip && inRange(range, i.ip))) ||
      (!s.loadBalancerClass && s.conditions?.some((c) => c.type === CONDITION_LB_ADDRESS_ERROR))
    ) {
      // Served but without an address, or no longer a LoadBalancer: clear it. A Service of
      // another implementation (loadBalancerClass) keeps whatever it shows.
      want = [];
    } else continue;
    const have = s.conditions ?? [];
    const conditions = withCondition(have, problemOf.get(s.uid), input.now);
    if (!sameIngress(s.ingress, want) || conditions !== have)
      status.push({ namespace: s.namespace, name: s.name, uid: s.uid, ingress: want, conditions });
  }
  return { assigned, status, routes, problems };
}

/** The conditions with ours set to the problem (or removed without one); `have` itself when unchanged. */
function withCondition(
  have: ServiceCondition[],
  problem: Problem | undefined,
  now: string | undefined,
): ServiceCondition[] {
  const ours = have.find((c) => c.type === CONDITION_LB_ADDRESS_ERROR);
  const others = have.filter((c) => c !== ours);
  if (!problem) return ours ? others : have;
  if (ours?.status === 'True' && ours.reason === problem.reason && ours.message === problem.message)
    return have;
  return [
    ...others,
    {
      type: CONDITION_LB_ADDRESS_ERROR,
      status: 'True',
      reason: problem.reason,
      message: problem.message,
      lastTransitionTime:
        ours?.status === 'True' && ours.lastTransitionTime
          ? ours.lastTransitionTime
          : (now ?? new Date(0).toISOString()),
    },
  ];
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
