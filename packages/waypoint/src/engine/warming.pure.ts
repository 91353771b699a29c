// Cluster warming, Envoy's way: a cluster that came by CDS with EDS endpoints is "warming" until its
// first ClusterLoadAssignment answer, or until its initial_fetch_timeout (15 s by default) passes.
// A listener or route configuration update that names a warming cluster is held (the last good one
// keeps serving) and applied once those clusters are warm; before the first CDS answer a cluster
// nobody has heard of yet counts as warming too. Nothing is held when nothing named is warming, so
// the common update is applied at once. Pure: the caller gives the clock and applies the decision.
import type { ListenerModel } from './model/listener.js';
import type { RouteTable } from './model/route.js';

/** Envoy's default ConfigSource.initial_fetch_timeout. */
export const DEFAULT_INITIAL_FETCH_TIMEOUT_MS = 15_000;

export interface WarmingCluster {
  /** The ClusterLoadAssignment whose first answer warms it. */
  readonly edsName: string;
  /** When it started warming (ms). */
  readonly since: number;
  readonly timeoutMs: number;
}

export interface WarmingView {
  /** Clusters known from CDS that wait for their first EDS answer. */
  readonly clusters: ReadonlyMap<string, WarmingCluster>;
  /** Whether CDS has answered at all: before that, an unknown cluster may still come. */
  readonly cdsAnswered: boolean;
  /** When the waiting for the first CDS answer began (ms). */
  readonly cdsSince: number;
  known(cluster: string): boolean;
}

export type WarmingDecision =
  | {
      readonly apply: true;
      /** Named clusters given up on (their timeout passed): applied without their endpoints. */
      readonly timedOut: readonly string[];
    }
  | {
      readonly apply: false;
      /** The named clusters still warming. */
      readonly waitingFor: readonly string[];
      /** When to decide again at the latest (the earliest timeout among them). */
      readonly until: number;
    };

/** Whether a configuration naming `named` may be applied at `now`. */
export function decideWarming(
  named: Iterable<string>,
  view: WarmingView,
  now: number,
): WarmingDecision {
  const waitingFor: string[] = [];
  const timedOut: string[] = [];
  let until = Infinity;
  for (const name of named) {
    const w = view.clusters.get(name);
    const deadline = w
      ? w.since + w.timeoutMs
      : !view.cdsAnswered && !view.known(name)
        ? view.cdsSince + DEFAULT_INITIAL_FETCH_TIMEOUT_MS
        : undefined;
    if (deadline === undefined) continue;
    if (now >= deadline) timedOut.push(name);
    else {
      waitingFor.push(name);
      until = Math.min(until, deadline);
    }
  }
  return waitingFor.length === 0
    ? { apply: true, timedOut }
    : { apply: false, waitingFor: waitingFor.sort(), until };
}

/** Every cluster a route table sends requests or mirrored copies to. */
export function routeTableClusters(table: RouteTable, out = new Set<string>()): Set<string> {
  for (const m of table.mirrors) out.add(m.cluster);
  for (const vh of table.virtualHosts) {
    for (const m of vh.mirrors) out.add(m.cluster);
    for (const r of vh.routes) {
      if (r.action.kind !== 'forward') continue;
      for (const t of r.action.targets) out.add(t.cluster);
      for (const m of r.action.mirrors) out.add(m.cluster);
    }
  }
  return out;
}

/** Every cluster a listener's chains name: TCP proxy targets and inline route tables. */
export function listenerClusters(l: ListenerModel, out = new Set<string>()): Set<string> {
  for (const c of [...l.chains, ...(l.defaultChain ? [l.defaultChain] : [])]) {
    const t = c.terminal;
    if (t.kind === 'tcp') for (const x of t.tcp.targets) out.add(x.cluster);
    else if (t.http.routeConfig) routeTableClusters(t.http.routeConfig, out);
  }
  return out;
}

/** An accepted xDS update not applied yet: what it changes and removes, by resource name. */
export interface PendingUpdate<T> {
  readonly updated: Map<string, T>;
  readonly removed: Set<string>;
}

/** Folds a newer update into a held one (the newer wins per name). */
export function mergeUpdate<T>(
  held: PendingUpdate<T> | undefined,
  updated: ReadonlyMap<string, T>,
  removed: readonly string[],
): PendingUpdate<T> {
  const out: PendingUpdate<T> = {
    updated: new Map(held?.updated),
    removed: new Set(held?.removed),
  };
  for (const name of removed) {
    out.updated.delete(name);
    out.removed.add(name);
  }
  for (const [name, value] of updated) {
    out.removed.delete(name);
    out.updated.set(name, value);
  }
  return out;
}
