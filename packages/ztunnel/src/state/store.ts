// The one state store of the data plane: workloads, services and authorization policies, filled
// by the xDS client or a local config file through the same converters, read by the proxies.
// `apply` makes one change atomically (JavaScript runs it to the end before any reader sees it),
// keeps every index in step, and then tells subscribers what changed.
//
// The lookups of one connection are map probes: address -> workload, VIP -> service (a VIP range by
// one probe per prefix length in use), and the endpoint pick from a plan kept per (service, port)
// until the service or one of its endpoints changes (a binary search by capacity).
import { canonicalIp, networkAddress } from '@trellis/core';
import {
  pickFrom,
  planPick,
  type Endpoint,
  type EndpointPick,
  type PickOptions,
  type PickPlan,
} from './load-balance.js';
import {
  policyKey,
  serviceKey,
  type Authorization,
  type GatewayAddress,
  type PortMapping,
  type Service,
  type Workload,
} from './model.js';

/** One atomic change. Removals run before upserts; removing an unknown key does nothing. */
export interface StateUpdate {
  readonly upsertWorkloads?: readonly Workload[];
  /** Workload uids. */
  readonly removeWorkloads?: readonly string[];
  readonly upsertServices?: readonly Service[];
  /** Service keys "<namespace>/<hostname>". */
  readonly removeServices?: readonly string[];
  readonly upsertPolicies?: readonly Authorization[];
  /** Policy keys "<namespace>/<name>". */
  readonly removePolicies?: readonly string[];
}

export interface KeyChanges {
  /** Keys added or replaced by a different value (an identical upsert is not a change). */
  readonly upserted: readonly string[];
  /** Keys that existed and were removed. */
  readonly removed: readonly string[];
}

/** What one `apply` changed, by key (workload uid, service key, policy key). */
export interface StateChange {
  readonly workloads: KeyChanges;
  readonly services: KeyChanges;
  readonly policies: KeyChanges;
}

export type StateListener = (change: StateChange) => void;

export interface StoreOptions {
  /** The network this ztunnel is in; the default for address lookups. Default ''. */
  readonly network?: string;
  /** Random source for endpoint and weighted-waypoint choice, in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

export interface LookupOptions {
  /** Network of the address; default the store's network. */
  readonly network?: string;
  /** Namespace of the client: hides NAMESPACE-visibility services of other namespaces, and
   * prefers a service of this namespace when several share a VIP. */
  readonly namespace?: string;
}

/** The waypoint a workload or service uses, and what its address resolves to in the store. */
export interface WaypointTarget {
  readonly gateway: GatewayAddress;
  /** The waypoint's service, when the gateway names one or its address is a service VIP. */
  readonly service?: Service;
  /** The waypoint workload, when the gateway address is a workload IP. */
  readonly workload?: Workload;
}

/** Everything in the store, sorted by key, with each service's endpoints; for /config_dump. */
export interface StateDump {
  readonly workloads: readonly Workload[];
  readonly services: readonly (Service & {
    readonly endpoints: Readonly<Record<string, readonly PortMapping[]>>;
  })[];
  readonly policies: readonly Authorization[];
}

export class StateStore {
  readonly network: string;
  private readonly random: () => number;
  private readonly listeners = new Set<StateListener>();

  private readonly workloadsByUid = new Map<string, Workload>();
  /** "<network>/<ip>" -> workloads (several only while addresses overlap). */
  private readonly workloadsByAddr = new Map<string, Workload[]>();
  private readonly servicesByKey = new Map<string, Service>();
  /** "<network>/<ip>" -> services sharing that VIP. */
  private readonly servicesByVip = new Map<string, Service[]>();
  private readonly servicesByHostname = new Map<string, Service[]>();
  /** "<network>" -> prefix length -> network address -> services with that VIP range. */
  private readonly servicesByRange = new Map<string, Map<number, Map<string, Service[]>>>();
  /** Service key -> workload uid -> the workload's port mappings for it. Kept for services not
   * (yet) known, so the order in which workloads and services arrive does not matter. */
  private readonly endpointsByService = new Map<string, Map<string, readonly PortMapping[]>>();
  /** Service key -> its endpoints sorted by uid; dropped when the service or an endpoint changes. */
  private readonly endpointLists = new Map<string, readonly Endpoint[]>();
  /** Stored service -> (port * 2 + waypoint) -> pick plan; dropped with the endpoint list. */
  private readonly pickPlans = new WeakMap<Service, Map<number, PickPlan>>();
  private readonly policiesByKey = new Map<string, Authorization>();
  /** Namespace -> keys of its NAMESPACE-scope policies. */
  private readonly policiesByNamespace = new Map<string, Set<string>>();
  private readonly globalPolicies = new Set<string>();

  constructor(opts: StoreOptions = {}) {
    this.network = opts.network ?? '';
    this.random = opts.random ?? Math.random;
  }

  apply(update: StateUpdate): StateChange {
    const workloads = { upserted: [] as string[], removed: [] as string[] };
    const services = { upserted: [] as string[], removed: [] as string[] };
    const policies = { upserted: [] as string[], removed: [] as string[] };

    for (const uid of update.removeWorkloads ?? []) {
      if (this.removeWorkload(uid)) workloads.removed.push(uid);
    }
    for (const key of update.removeServices ?? []) {
      if (this.removeService(key)) services.removed.push(key);
    }
    for (const key of update.removePolicies ?? []) {
      if (this.removePolicy(key)) policies.removed.push(key);
    }
    for (const w of update.upsertWorkloads ?? []) {
      if (same(this.workloadsByUid.get(w.uid), w)) continue;
      this.removeWorkload(w.uid);
      this.addWorkload(w);
      workloads.upserted.push(w.uid);
    }
    for (const s of update.upsertServices ?? []) {
      const key = serviceKey(s);
      if (same(this.servicesByKey.get(key), s)) continue;
      this.removeService(key);
      this.addService(s);
      services.upserted.push(key);
    }
    for (const p of update.upsertPolicies ?? []) {
      const key = policyKey(p);
      if (same(this.policiesByKey.get(key), p)) continue;
      this.removePolicy(key);
      this.addPolicy(p);
      policies.upserted.push(key);
    }

    const change: StateChange = {
      workloads: settle(workloads),
      services: settle(services),
      policies: settle(policies),
    };
    if (isEmpty(change)) return change;
    // Every listener runs even if one throws; the first error is rethrown afterwards (the store
    // itself is already consistent).
    let failure: { error: unknown } | undefined;
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
    return change;
  }

  /** Calls `listener` after every apply that changed something. Returns the unsubscribe function. */
  subscribe(listener: StateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- workloads

  workloadByUid(uid: string): Workload | undefined {
    return this.workloadsByUid.get(uid);
  }

  /**
   * The workload with this IP in the network. HOST_NETWORK workloads are never found by IP. When
   * addresses overlap, a Pod in the mesh wins over a Pod outside it, then over other kinds.
   */
  workloadByAddr(ip: string, opts: { readonly network?: string } = {}): Workload | undefined {
    const key = this.addrKey(opts.network, ip);
    const found = key === undefined ? undefined : this.workloadsByAddr.get(key);
    if (!found) return undefined;
    return found.reduce((best, w) => (addrRank(w) > addrRank(best) ? w : best));
  }

  workloads(): Workload[] {
    return sortedValues(this.workloadsByUid);
  }

  // --- services

  /** By key "<namespace>/<hostname>". */
  serviceByKey(key: string): Service | undefined {
    return this.servicesByKey.get(key);
  }

  servicesByHost(hostname: string): Service[] {
    return [...(this.servicesByHostname.get(hostname) ?? [])];
  }

  /**
   * The service with this VIP, or whose VIP range holds it (longest prefix). Among several
   * visible to the client: one in the client's namespace, then a canonical one, then the first
   * applied. Whether the service has the port is checked when picking the endpoint.
   */
  serviceByVip(ip: string, opts: LookupOptions = {}): Service | undefined {
    const key = this.addrKey(opts.network, ip);
    if (key === undefined) return undefined;
    const visible = (s: Service) =>
      opts.namespace === undefined || s.visibility === 'Public' || s.namespace === opts.namespace;
    const rank = (s: Service) => (s.namespace === opts.namespace ? 2 : 0) + (s.canonical ? 1 : 0);
    const atVip = this.servicesByVip.get(key);
    if (atVip?.length === 1 && visible(atVip[0]!)) return atVip[0];
    const exact = (atVip ?? []).filter(visible);
    if (exact.length > 0) return exact.reduce((best, s) => (rank(s) > rank(best) ? s : best));

    const ranges = this.servicesByRange.get(opts.network ?? this.network);
    if (!ranges) return undefined;
    let best: { service: Service; score: number } | undefined;
    for (const [prefixLength, byNetwork] of ranges) {
      const net = networkAddress(ip, prefixLength);
      for (const service of (net !== undefined && byNetwork.get(net)) || []) {
        if (!visible(service)) continue;
        const score =
          (service.namespace === opts.namespace ? 1000 : 0) +
          prefixLength * 2 +
          (service.canonical ? 1 : 0);
        if (!best || score > best.score) best = { service, score };
      }
    }
    return best?.service;
  }

  services(): Service[] {
    return sortedValues(this.servicesByKey);
  }

  /** The workloads backing a service (from their `services` maps), sorted by uid. Do not modify. */
  endpointsOf(service: Service | string): readonly Endpoint[] {
    const key = typeof service === 'string' ? service : serviceKey(service);
    let list = this.endpointLists.get(key);
    if (!list) {
      const out: Endpoint[] = [];
      for (const [uid, ports] of this.endpointsByService.get(key) ?? []) {
        const workload = this.workloadsByUid.get(uid);
        if (workload) out.push({ workload, ports });
      }
      list = out.sort((a, b) => compare(a.workload.uid, b.workload.uid));
      this.endpointLists.set(key, list);
    }
    return list;
  }

  /** The services a workload backs that are known to the store. */
  servicesOf(workload: Workload): Service[] {
    return Object.keys(workload.services)
      .map((key) => this.servicesByKey.get(key))
      .filter((s): s is Service => s !== undefined);
  }

  /** Chooses the endpoint of `service` for a connection to `port` (see load-balance.ts). */
  pickEndpoint(
    service: Service,
    port: number,
    opts: Omit<PickOptions, 'random'> = {},
  ): EndpointPick {
    const waypoint = opts.waypoint === true;
    const planKey = port * 2 + (waypoint ? 1 : 0);
    let plan = this.pickPlans.get(service)?.get(planKey);
    if (!plan) {
      const key = serviceKey(service);
      plan = planPick(service, port, this.endpointsOf(key), waypoint);
      // Kept only for the stored version of the service; a caller holding another gets a fresh one.
      if (this.servicesByKey.get(key) === service) {
        let plans = this.pickPlans.get(service);
        if (!plans) this.pickPlans.set(service, (plans = new Map()));
        plans.set(planKey, plan);
      }
    }
    return pickFrom(plan, { ...(opts.source ? { source: opts.source } : {}), random: this.random });
  }

  // --- policies

  policy(key: string): Authorization | undefined {
    return this.policiesByKey.get(key);
  }

  policies(): Authorization[] {
    return sortedValues(this.policiesByKey);
  }

  /**
   * The policies that apply to a workload, sorted by key: GLOBAL ones, NAMESPACE ones of its
   * namespace, and those its `authorizationPolicies` names (the control plane resolves workload
   * selectors into that list). Names not in the store are skipped.
   */
  policiesFor(workload: Workload): Authorization[] {
    const keys = new Set<string>([
      ...this.globalPolicies,
      ...(this.policiesByNamespace.get(workload.namespace) ?? []),
      ...workload.authorizationPolicies,
    ]);
    return [...keys]
      .sort(compare)
      .map((k) => this.policiesByKey.get(k))
      .filter((p): p is Authorization => p !== undefined);
  }

  // --- waypoints

  /**
   * The waypoint of a workload or service, or undefined if it has none. For a service with
   * weighted waypoints one is chosen by weight (per call, i.e. per connection).
   */
  waypointFor(target: Workload | Service): WaypointTarget | undefined {
    const gateway = 'uid' in target ? target.waypoint : this.serviceWaypoint(target);
    if (!gateway) return undefined;
    const dest = gateway.destination;
    if (dest.kind === 'hostname') {
      const service = this.servicesByKey.get(serviceKey(dest));
      return service ? { gateway, service } : { gateway };
    }
    const workload = this.workloadByAddr(dest.address, { network: dest.network });
    if (workload) return { gateway, workload };
    const service = this.serviceByVip(dest.address, { network: dest.network });
    return service ? { gateway, service } : { gateway };
  }

  dump(): StateDump {
    return {
      workloads: this.workloads(),
      services: this.services().map((s) => ({
        ...s,
        endpoints: Object.fromEntries(this.endpointsOf(s).map((e) => [e.workload.uid, e.ports])),
      })),
      policies: this.policies(),
    };
  }

  // --- index maintenance

  private serviceWaypoint(service: Service): GatewayAddress | undefined {
    const weighted = service.weightedWaypoints;
    const total = weighted.reduce((sum, w) => sum + w.weight, 0);
    if (total <= 0) return service.waypoint;
    let point = this.random() * total;
    for (const w of weighted) {
      point -= w.weight;
      if (point < 0) return w.destination;
    }
    return weighted.findLast((w) => w.weight > 0)!.destination;
  }

  private addrKey(network: string | undefined, ip: string): string | undefined {
    const canonical = canonicalIp(ip);
    return canonical === undefined ? undefined : `${network ?? this.network}/${canonical}`;
  }

  /** Forgets what was derived from a service's endpoints. */
  private endpointsChanged(key: string, service = this.servicesByKey.get(key)): void {
    this.endpointLists.delete(key);
    if (service) this.pickPlans.delete(service);
  }

  private addWorkload(w: Workload): void {
    this.workloadsByUid.set(w.uid, w);
    if (w.networkMode !== 'HostNetwork') {
      for (const ip of w.addresses) push(this.workloadsByAddr, `${w.network}/${ip}`, w);
    }
    for (const [key, ports] of Object.entries(w.services)) {
      let eps = this.endpointsByService.get(key);
      if (!eps) this.endpointsByService.set(key, (eps = new Map()));
      eps.set(w.uid, ports);
      this.endpointsChanged(key);
    }
  }

  private removeWorkload(uid: string): boolean {
    const w = this.workloadsByUid.get(uid);
    if (!w) return false;
    this.workloadsByUid.delete(uid);
    for (const ip of w.addresses)
      pull(this.workloadsByAddr, `${w.network}/${ip}`, (x) => x.uid === uid);
    for (const key of Object.keys(w.services)) {
      const eps = this.endpointsByService.get(key);
      eps?.delete(uid);
      if (eps?.size === 0) this.endpointsByService.delete(key);
      this.endpointsChanged(key);
    }
    return true;
  }

  private addService(s: Service): void {
    const key = serviceKey(s);
    this.servicesByKey.set(key, s);
    for (const vip of s.vips) push(this.servicesByVip, `${vip.network}/${vip.address}`, s);
    for (const range of s.cidrVips) push(this.rangeBucket(range, true)!, rangeKey(range), s);
    push(this.servicesByHostname, s.hostname, s);
    this.endpointsChanged(key);
  }

  private removeService(key: string): boolean {
    const s = this.servicesByKey.get(key);
    if (!s) return false;
    this.servicesByKey.delete(key);
    const isThis = (x: Service) => serviceKey(x) === key;
    for (const vip of s.vips) pull(this.servicesByVip, `${vip.network}/${vip.address}`, isThis);
    for (const range of s.cidrVips) {
      const bucket = this.rangeBucket(range, false);
      if (bucket) pull(bucket, rangeKey(range), isThis);
      if (bucket?.size === 0) {
        const byLength = this.servicesByRange.get(range.network)!;
        byLength.delete(range.prefixLength);
        if (byLength.size === 0) this.servicesByRange.delete(range.network);
      }
    }
    pull(this.servicesByHostname, s.hostname, isThis);
    this.endpointsChanged(key, s);
    return true;
  }

  /** The map of network address -> services for a range's network and prefix length. */
  private rangeBucket(
    range: { readonly network: string; readonly prefixLength: number },
    create: boolean,
  ): Map<string, Service[]> | undefined {
    let byLength = this.servicesByRange.get(range.network);
    if (!byLength && create) this.servicesByRange.set(range.network, (byLength = new Map()));
    let bucket = byLength?.get(range.prefixLength);
    if (!bucket && create) byLength!.set(range.prefixLength, (bucket = new Map()));
    return bucket;
  }

  private addPolicy(p: Authorization): void {
    const key = policyKey(p);
    this.policiesByKey.set(key, p);
    if (p.scope === 'Global') this.globalPolicies.add(key);
    if (p.scope === 'Namespace') {
      let set = this.policiesByNamespace.get(p.namespace);
      if (!set) this.policiesByNamespace.set(p.namespace, (set = new Set()));
      set.add(key);
    }
  }

  private removePolicy(key: string): boolean {
    const p = this.policiesByKey.get(key);
    if (!p) return false;
    this.policiesByKey.delete(key);
    this.globalPolicies.delete(key);
    const set = this.policiesByNamespace.get(p.namespace);
    set?.delete(key);
    if (set?.size === 0) this.policiesByNamespace.delete(p.namespace);
    return true;
  }
}

/** A range's network address (its address with the host bits cleared), as lookups compute it. */
function rangeKey(range: { readonly address: string; readonly prefixLength: number }): string {
  return networkAddress(range.address, range.prefixLength) ?? range.address;
}

function addrRank(w: Workload): number {
  return (w.uid.includes('//Pod/') ? 2 : 0) + (w.protocol === 'HBONE' ? 1 : 0);
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function pull<T>(map: Map<string, T[]>, key: string, match: (v: T) => boolean): void {
  const list = map.get(key)?.filter((v) => !match(v));
  if (!list || list.length === 0) map.delete(key);
  else map.set(key, list);
}

/** Values are plain JSON data, so equal serialisations mean equal values. */
function same<T>(a: T | undefined, b: T): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

function settle(k: { upserted: string[]; removed: string[] }): KeyChanges {
  // A key removed and upserted in the same update counts as upserted only.
  const upserted = new Set(k.upserted);
  return { upserted: k.upserted, removed: k.removed.filter((key) => !upserted.has(key)) };
}

function isEmpty(c: StateChange): boolean {
  return [c.workloads, c.services, c.policies].every(
    (k) => k.upserted.length + k.removed.length === 0,
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedValues<T>(map: Map<string, T>): T[] {
  return [...map.keys()].sort(compare).map((k) => map.get(k)!);
}
