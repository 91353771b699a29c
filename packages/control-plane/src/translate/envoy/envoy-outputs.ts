// The Envoy resource sets of a running control plane, kept from one state to the next: each set a
// proxy asked for (the proxyless set, a namespace's proxyless set, a waypoint's, an ingress
// gateway's) is brought to
// every new state incrementally (envoy-set.ts), so a change costs what it touches, and `update`
// says which Envoy types changed at all, so the xDS server pokes only those. Sets nobody asks for
// are never built; a waypoint's set is dropped when the waypoint is gone. A proxy asking with a
// state the outputs were already brought past (the server still serves the snapshot published
// before; the newer one waits for its debounced push, which re-sends only the types `update`
// reported) is given the newest state's resources: what it holds is then what the next push is
// compared with. Pure: the outputs are the caller's (one per pipeline).
import type { GeneratedResources, Proxy } from '@trellis/xds';
import { ENVOY_TYPES } from './envoy-types.js';
import { updateSet, type EnvoySet, type EnvoySetKind } from './envoy-set.js';
import { envoyProxyRole } from './proxy-role.js';
import { ingressGateways } from './gateway-listeners.js';
import { routeAttachments } from './route-attachment.js';
import type { EnvoyState } from './state.js';
import { workloadIndex, type WorkloadIndex } from './workload-index.js';

export interface EnvoyOutputs {
  /**
   * The resources of `typeUrl` for `proxy`'s set in `state`, or in the newest state `update` was
   * given when that is later (empty for an unknown waypoint).
   */
  generate(
    typeUrl: string,
    state: EnvoyState,
    proxy: Pick<Proxy, 'istio' | 'metadata'>,
  ): GeneratedResources;
  /** Brings every set built so far to `state`; returns the Envoy type URLs whose resources changed. */
  update(state: EnvoyState): string[];
}

const EMPTY: GeneratedResources = new Map();
const MAX_UNIDENTIFIED = 1000;

export function createEnvoyOutputs(): EnvoyOutputs {
  /** The newest build of each set, by set key. */
  const sets = new Map<string, { kind: EnvoySetKind; latest: EnvoySet }>();
  /** Builds per state, shared by the proxies of a set. */
  const byState = new WeakMap<EnvoyState, Map<string, EnvoySet>>();
  let index: WorkloadIndex | undefined;
  let last: EnvoyState | undefined;
  /** The states `update` was given: each is `last` or older (a state it never saw is served as it is). */
  const updated = new WeakSet<EnvoyState>();
  const newest = (state: EnvoyState) => (last && updated.has(state) ? last : state);
  /** Waypoint proxies that could not be identified yet (`<ns>/<pod>`): they may be, any time. */
  const unidentified = new Set<string>();
  const indexFor = (state: EnvoyState) => {
    if (index?.state === state) return index;
    index = workloadIndex(state, index);
    return index;
  };

  const build = (key: string, kind: EnvoySetKind, state: EnvoyState): EnvoySet => {
    let perState = byState.get(state);
    const known = perState?.get(key);
    if (known) return known;
    const entry = sets.get(key);
    const built = updateSet(kind, state, indexFor(state), entry?.latest);
    sets.set(key, { kind, latest: built });
    if (!perState) byState.set(state, (perState = new Map()));
    perState.set(key, built);
    return built;
  };

  return {
    generate(typeUrl, asked, proxy) {
      const state = newest(asked);
      const role = envoyProxyRole(state, proxy);
      const who = `${proxy.istio?.namespace}/${proxy.istio?.podName}`;
      if (role.kind === 'unknown-waypoint') {
        if (unidentified.size < MAX_UNIDENTIFIED) unidentified.add(who);
        return EMPTY;
      }
      if (role.kind === 'waypoint' || role.kind === 'gateway') unidentified.delete(who);
      const { key, kind } =
        role.kind === 'gateway'
          ? {
              key: `gateway/${role.gateway}`,
              kind: { kind: 'gateway', gateway: role.gateway } as const,
            }
          : setOf(role.kind === 'waypoint' ? role.waypoint.key : undefined, proxy, state);
      return build(key, kind, state).packed.get(typeUrl) ?? EMPTY;
    },
    update(state) {
      const changed = new Set<string>();
      // Which set a proxy gets can change: waypoints come and go, a waypoint proxy not identified
      // yet may be (its pod appears), namespaces gain or lose consumer routes. Then every type.
      const previous = last;
      last = state;
      updated.add(state);
      if (
        previous &&
        (unidentified.size > 0 ||
          !sameKeys(previous.waypoints, state.waypoints) ||
          !sameKeys(ingressGateways(previous), ingressGateways(state)) ||
          !sameSet(
            routeAttachments(previous).consumerNamespaces,
            routeAttachments(state).consumerNamespaces,
          ))
      )
        for (const t of ENVOY_TYPES) changed.add(t);
      for (const [key, { kind, latest }] of [...sets]) {
        const gone =
          (kind.kind === 'waypoint' && !state.waypoints.has(kind.waypoint)) ||
          (kind.kind === 'gateway' && !ingressGateways(state).has(kind.gateway)) ||
          (kind.kind === 'proxyless' &&
            kind.clientNamespace !== undefined &&
            !routeAttachments(state).consumerNamespaces.has(kind.clientNamespace));
        if (gone) {
          sets.delete(key);
          continue;
        }
        const next = build(key, kind, state);
        for (const t of ENVOY_TYPES)
          if (next.packed.get(t) !== latest.packed.get(t)) changed.add(t);
      }
      return ENVOY_TYPES.filter((t) => changed.has(t));
    },
  };
}

function sameKeys(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  return a === b || (a.size === b.size && [...a.keys()].every((k) => b.has(k)));
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** A waypoint's set, or the proxyless set of the client's namespace (when it has consumer routes). */
function setOf(
  waypoint: string | undefined,
  proxy: Pick<Proxy, 'istio'>,
  state: EnvoyState,
): { key: string; kind: EnvoySetKind } {
  if (waypoint !== undefined)
    return { key: `waypoint/${waypoint}`, kind: { kind: 'waypoint', waypoint } };
  const ns = proxy.istio?.namespace;
  if (ns !== undefined && routeAttachments(state).consumerNamespaces.has(ns))
    return { key: `proxyless/${ns}`, kind: { kind: 'proxyless', clientNamespace: ns } };
  return { key: 'proxyless', kind: { kind: 'proxyless' } };
}
