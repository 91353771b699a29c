// Endpoint picking for one cluster: round robin (smooth weighted), least request (power of
// `choices` random choices), random, ring hash and Maglev for consistent hashing. The host set is
// the lowest priority level with a healthy host; when too few of its hosts are healthy (below the
// panic threshold) every host of the level is used, as Envoy does.
import type { ClusterConfig } from '../model/cluster.js';
import type { Host } from './host.js';

export interface PickContext {
  /** Hash for ring hash / Maglev (undefined: pick at random). */
  readonly hash?: number;
  /** Hosts to avoid (retries with previous_hosts). */
  readonly avoid?: ReadonlySet<Host>;
  readonly random: () => number;
  /** Where the downstream was headed (ORIGINAL_DST clusters connect there). */
  readonly destination?: { readonly destinationAddress: string; readonly destinationPort: number };
}

/** 32-bit FNV-1a of a string: hash-policy keys and ring points. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32), so nearby keys spread over the ring.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Balancer {
  #config: ClusterConfig;
  #hosts: readonly Host[] = [];
  #rrCurrent = new Map<Host, number>();
  #rrIndex = 0;
  #ring: { points: Uint32Array; hosts: Host[] } | undefined;
  #maglev: Host[] | undefined;
  #ringFor: readonly Host[] | undefined;
  #candidates: readonly Host[] | undefined;

  constructor(config: ClusterConfig) {
    this.#config = config;
  }

  setConfig(config: ClusterConfig): void {
    this.#config = config;
  }

  setHosts(hosts: readonly Host[]): void {
    this.#hosts = hosts;
    this.#rrCurrent = new Map();
    this.#ring = undefined;
    this.#maglev = undefined;
    this.#ringFor = undefined;
    this.#candidates = undefined;
  }

  /** Host health changed (ejection, return): recompute the candidates on the next pick. */
  invalidate(): void {
    this.#candidates = undefined;
  }

  /** The hosts requests may go to now (priority and panic threshold applied). */
  candidates(): readonly Host[] {
    return (this.#candidates ??= this.#computeCandidates());
  }

  #computeCandidates(): readonly Host[] {
    const hosts = this.#hosts;
    if (hosts.length === 0) return hosts;
    let minPriority = Infinity;
    for (const h of hosts)
      if (h.healthy && h.endpoint.priority < minPriority) minPriority = h.endpoint.priority;
    if (minPriority === Infinity) {
      // Nothing healthy anywhere: panic over the first level.
      minPriority = Math.min(...hosts.map((h) => h.endpoint.priority));
      return hosts.filter((h) => h.live && h.endpoint.priority === minPriority);
    }
    let total = 0;
    let healthy = 0;
    for (const h of hosts) {
      if (h.endpoint.priority !== minPriority || !h.live) continue;
      total++;
      if (h.healthy) healthy++;
    }
    const level = hosts.filter((h) => h.live && h.endpoint.priority === minPriority);
    if (healthy / total < this.#config.panicThreshold) return level;
    return healthy === level.length ? level : level.filter((h) => h.healthy);
  }

  pick(ctx: PickContext): Host | undefined {
    let hosts = this.candidates();
    if (hosts.length === 0) return undefined;
    const hashed = this.#config.lbPolicy === 'ring-hash' || this.#config.lbPolicy === 'maglev';
    if (!hashed && ctx.avoid && ctx.avoid.size > 0 && hosts.length > 1) {
      const others = hosts.filter((h) => !ctx.avoid!.has(h));
      if (others.length > 0) hosts = others;
    }
    if (hosts.length === 1) return hosts[0];
    switch (this.#config.lbPolicy) {
      case 'round-robin':
        return this.#roundRobin(hosts);
      case 'least-request':
        return this.#leastRequest(hosts, ctx.random);
      case 'random':
        return hosts[Math.floor(ctx.random() * hosts.length)];
      case 'ring-hash':
        return ctx.hash === undefined
          ? hosts[Math.floor(ctx.random() * hosts.length)]
          : this.#ringPick(hosts, ctx.hash);
      case 'maglev':
        return ctx.hash === undefined
          ? hosts[Math.floor(ctx.random() * hosts.length)]
          : this.#maglevPick(hosts, ctx.hash);
    }
  }

  #roundRobin(hosts: readonly Host[]): Host {
    let uniform = true;
    const w0 = hosts[0]!.endpoint.weight;
    for (const h of hosts) if (h.endpoint.weight !== w0) uniform = false;
    if (uniform) {
      const h = hosts[this.#rrIndex % hosts.length]!;
      this.#rrIndex = (this.#rrIndex + 1) % 1_000_000_007;
      return h;
    }
    // Smooth weighted round robin: each host gains its weight, the largest is picked and pays the total.
    let total = 0;
    let best: Host | undefined;
    let bestValue = -Infinity;
    for (const h of hosts) {
      const w = h.endpoint.weight;
      total += w;
      const v = (this.#rrCurrent.get(h) ?? 0) + w;
      this.#rrCurrent.set(h, v);
      if (v > bestValue) {
        bestValue = v;
        best = h;
      }
    }
    this.#rrCurrent.set(best!, bestValue - total);
    return best!;
  }

  #leastRequest(hosts: readonly Host[], random: () => number): Host {
    let best: Host | undefined;
    for (let i = 0; i < this.#config.leastRequestChoices; i++) {
      const h = hosts[Math.floor(random() * hosts.length)]!;
      // Weighted: fewer requests per unit of weight wins.
      if (!best || h.active / h.endpoint.weight < best.active / best.endpoint.weight) best = h;
    }
    return best!;
  }

  #ringPick(hosts: readonly Host[], hash: number): Host {
    if (!this.#ring || this.#ringFor !== hosts) {
      this.#ring = buildRing(hosts, this.#config.ringSize.min, this.#config.ringSize.max);
      this.#ringFor = hosts;
    }
    const { points, hosts: owners } = this.#ring;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return owners[lo === points.length ? 0 : lo]!;
  }

  #maglevPick(hosts: readonly Host[], hash: number): Host {
    if (!this.#maglev || this.#ringFor !== hosts) {
      this.#maglev = buildMaglev(hosts);
      this.#ringFor = hosts;
    }
    return this.#maglev[hash % this.#maglev.length]!;
  }
}

/** A hash ring with ~min..max points spread over the hosts by weight. */
function buildRing(
  hosts: readonly Host[],
  min: number,
  max: number,
): { points: Uint32Array; hosts: Host[] } {
  const totalWeight = hosts.reduce((s, h) => s + h.endpoint.weight, 0);
  const size = Math.min(max, Math.max(min, hosts.length));
  const entries: [number, Host][] = [];
  for (const h of hosts) {
    const n = Math.max(1, Math.round((size * h.endpoint.weight) / totalWeight));
    for (let i = 0; i < n; i++) entries.push([hash32(`${h.key}_${i}`), h]);
  }
  entries.sort((a, b) => a[0] - b[0]);
  return { points: Uint32Array.from(entries.map((e) => e[0])), hosts: entries.map((e) => e[1]) };
}

/** Maglev lookup table (prime size 65537), weights honoured by turns. */
function buildMaglev(hosts: readonly Host[]): Host[] {
  const M = 65537;
  const table: (Host | undefined)[] = new Array(M);
  const n = hosts.length;
  const offset = hosts.map((h) => hash32(`${h.key}#o`) % M);
  const skip = hosts.map((h) => (hash32(`${h.key}#s`) % (M - 1)) + 1);
  const next = new Array<number>(n).fill(0);
  const maxWeight = Math.max(...hosts.map((h) => h.endpoint.weight));
  const credit = new Array<number>(n).fill(0);
  let filled = 0;
  for (let iter = 0; filled < M; iter++) {
    for (let i = 0; i < n && filled < M; i++) {
      credit[i]! += hosts[i]!.endpoint.weight / maxWeight;
      if (credit[i]! < 1) continue;
      credit[i]! -= 1;
      let c = (offset[i]! + next[i]! * skip[i]!) % M;
      while (table[c] !== undefined) {
        next[i]!++;
        c = (offset[i]! + next[i]! * skip[i]!) % M;
      }
      table[c] = hosts[i];
      next[i]!++;
      filled++;
    }
    if (iter > 10 * M) break;
  }
  return table as Host[];
}
