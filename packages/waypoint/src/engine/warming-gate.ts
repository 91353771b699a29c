// The cluster-warming gate between accepted xDS updates and the engine: clusters CDS brings with
// EDS endpoints are warming until their first ClusterLoadAssignment answer or their
// initial_fetch_timeout; a listener or route update naming a warming cluster is held (the last
// applied one keeps serving) and applied once they are warm. The decision is warming.pure.ts;
// this holds the state, the timer and the logs.
import type { Logger } from '@trellis/core';
import { LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL } from '@trellis/api';
import type { ClusterConfig } from './model/cluster.js';
import {
  decideWarming,
  DEFAULT_INITIAL_FETCH_TIMEOUT_MS,
  mergeUpdate,
  type PendingUpdate,
  type WarmingCluster,
} from './warming.pure.js';

/** An accepted listener or route update waiting for clusters to warm. */
interface Held<T> {
  pending: PendingUpdate<T>;
  readonly since: number;
  waitingFor: readonly string[];
  readonly clustersOf: (value: T) => Set<string>;
  readonly apply: (updated: Map<string, T>, removed: readonly string[]) => void;
}

export interface WarmingGateOptions {
  readonly logger: Logger;
  /** Whether EDS answered for this ClusterLoadAssignment name. */
  hasEndpoints(edsName: string): boolean;
  /** The EDS name of a cluster the engine holds (undefined: unknown or not EDS). */
  edsNameOf(cluster: string): string | undefined;
  /** Whether the engine holds this cluster. */
  known(cluster: string): boolean;
  /** Runs after each pass that may have applied held updates. */
  onReleased(): void;
}

export class WarmingGate {
  readonly #o: WarmingGateOptions;
  /** Clusters from CDS waiting for their first EDS answer. */
  readonly #warming = new Map<string, WarmingCluster>();
  #cdsAnswered = false;
  readonly #cdsSince = Date.now();
  /** Held updates by type URL (listeners before routes when released). */
  readonly #held = new Map<string, Held<unknown>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(o: WarmingGateOptions) {
    this.#o = o;
  }

  /** Whether an accepted update is held now. */
  holding(): boolean {
    return this.#held.size > 0;
  }

  /** The clusters a held update of this type waits for. */
  waitingFor(typeUrl: string): readonly string[] | undefined {
    return this.#held.get(typeUrl)?.waitingFor;
  }

  /** A CDS update was applied: CDS has answered; held updates are looked at again. */
  clustersApplied(): void {
    this.#cdsAnswered = true;
    this.#release();
  }

  /** EDS answered for these ClusterLoadAssignment names (updated or "no such resource"). */
  endpointsAnswered(names: Iterable<string>): void {
    const answered = new Set(names);
    for (const [name, w] of this.#warming) if (answered.has(w.edsName)) this.#warming.delete(name);
    this.#release();
  }

  /** Envoy's cluster_manager.warming_clusters gauge, as Prometheus text. */
  text(): string {
    return (
      '# TYPE envoy_cluster_manager_warming_clusters gauge\n' +
      `envoy_cluster_manager_warming_clusters ${this.#warming.size}\n`
    );
  }

  /** Stops the warming timer (the client is closing). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Before a CDS update is applied: new clusters (or a new EDS name) without endpoints warm. */
  startWarming(updated: ReadonlyMap<string, ClusterConfig>, removed: readonly string[]): void {
    for (const name of removed) this.#warming.delete(name);
    const now = Date.now();
    for (const [name, cfg] of updated) {
      const eds = cfg.edsName;
      if (eds === undefined || this.#o.hasEndpoints(eds)) this.#warming.delete(name);
      else if (this.#o.edsNameOf(name) !== eds)
        this.#warming.set(name, {
          edsName: eds,
          since: now,
          timeoutMs: cfg.initialFetchTimeoutMs || DEFAULT_INITIAL_FETCH_TIMEOUT_MS,
        });
    }
  }

  /** Applies a listener or route update now, or holds it while clusters it names warm. */
  gate<T>(
    typeUrl: string,
    updated: Map<string, T>,
    removed: readonly string[],
    clustersOf: (value: T) => Set<string>,
    apply: (updated: Map<string, T>, removed: readonly string[]) => void,
  ): void {
    const held = this.#held.get(typeUrl) as Held<T> | undefined;
    // The common case: nothing warming, nothing held: applied at once.
    if (!held && this.#warming.size === 0 && this.#cdsAnswered) {
      apply(updated, removed);
      return;
    }
    const pending = mergeUpdate(held?.pending, updated, removed);
    if (held) held.pending = pending;
    else
      this.#held.set(typeUrl, {
        pending,
        since: Date.now(),
        waitingFor: [],
        clustersOf,
        apply,
      } as Held<unknown>);
    this.#release();
  }

  /** Applies the held updates whose clusters are warm (or timed out); re-arms the timer. */
  #release(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = Date.now();
    let next = Infinity;
    const view = {
      clusters: this.#warming,
      cdsAnswered: this.#cdsAnswered,
      cdsSince: this.#cdsSince,
      known: (n: string) => this.#o.known(n),
    };
    for (const typeUrl of [LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL]) {
      const held = this.#held.get(typeUrl);
      if (!held) continue;
      const named = new Set<string>();
      for (const v of held.pending.updated.values())
        for (const c of held.clustersOf(v)) named.add(c);
      const d = decideWarming(named, view, now);
      const type = typeUrl.split('.').pop();
      if (!d.apply) {
        if (held.waitingFor.join() !== d.waitingFor.join())
          this.#o.logger.debug({ type, clusters: d.waitingFor }, 'update held: clusters warming');
        held.waitingFor = d.waitingFor;
        next = Math.min(next, d.until);
        continue;
      }
      this.#held.delete(typeUrl);
      if (d.timedOut.length > 0) {
        // Envoy's initial_fetch_timeout: given up on, the cluster serves with what it has.
        for (const name of d.timedOut) this.#warming.delete(name);
        this.#o.logger.warn(
          { type, clusters: d.timedOut, waitedMs: now - held.since },
          'clusters still without endpoints after their initial fetch timeout; update applied as is',
        );
      } else if (held.waitingFor.length > 0)
        this.#o.logger.debug(
          { type, waitedMs: now - held.since },
          'held update applied: clusters warm',
        );
      held.apply(held.pending.updated, [...held.pending.removed]);
    }
    // Clusters no held update names also stop warming at their timeout (Envoy marks them warm).
    for (const [name, w] of this.#warming) {
      const deadline = w.since + w.timeoutMs;
      if (deadline > now) next = Math.min(next, deadline);
      else {
        this.#warming.delete(name);
        this.#o.logger.warn(
          { cluster: name, timeoutMs: w.timeoutMs },
          'cluster without endpoints after its initial fetch timeout; warm with none',
        );
      }
    }
    if (next !== Infinity) {
      this.#timer = setTimeout(() => this.#release(), Math.max(0, next - now));
      this.#timer.unref();
    }
    this.#o.onReleased();
  }
}
