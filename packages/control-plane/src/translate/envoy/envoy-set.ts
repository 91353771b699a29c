// One Envoy resource set (the proxyless set, a namespace's proxyless set, or a waypoint's), built
// incrementally: from the set built for an earlier state, only the Services whose info changed,
// the Services whose routes name them as backends, and the endpoints of the clusters whose
// workloads changed are translated again, into new versions of the earlier maps, and only changed
// messages are packed again. What a set depends on is declared in `wideChanged` (anything there
// rebuilds the set; rare) and `updateSet` (services, workloads). Building from nothing is the same
// code with everything dirty, and the result always equals a fresh build (property-tested).
// Pure: the memo is the caller's.
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  packAny,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
} from '@trellis/api';
import {
  SecretSchema,
  type Secret,
} from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import {
  ClusterSchema,
  type Cluster,
} from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  ClusterLoadAssignmentSchema,
  type ClusterLoadAssignment,
} from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import {
  ListenerSchema,
  type Listener,
} from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import {
  RouteConfigurationSchema,
  type RouteConfiguration,
} from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import type { GeneratedResources } from '@trellis/xds';
import { forEachChange, withChanges } from '../../collections/map-changes.js';
import { createdMs, labelsOf, nameOf } from '../../collections/meta.js';
import { sameValue } from '../../collections/same-value.js';
import type { GRPCRoute, HTTPRoute, Meta } from '../../model/gateway-api.js';
import type { Namespace } from '../../model/kube.js';
import { SortedMap } from '../../collections/sorted-map.js';
import type { ServiceInfo } from '../../model/service-info.js';
import type { WaypointInfo } from '../../model/waypoint-info.js';
import { LABEL_GATEWAY_NAME } from '../../model/well-known.js';
import { packMessages } from '../pack-messages.js';
import { edsCluster } from './clusters.js';
import { clusterLoadAssignment } from './endpoints.js';
import { waypointListener } from './listeners.js';
import { ingressGateways } from './gateway-listeners.js';
import { gatewayResources } from './gateway-resources.js';
import { WAYPOINT_LISTENER_NAME } from './names.js';
import type { EnvoyNote } from './notes.js';
import type { EnvoyResources } from './resources.js';
import type { ClusterRef } from './route-context.js';
import { selectedRequestAuthentications } from './request-authn.js';
import {
  proxylessService,
  waypointService,
  type ServiceContribution,
  type WaypointSelected,
} from './service-resources.js';
import { waypointCluster } from './traffic-policy.js';
import { boundWorkloads, directContribution, type DirectContribution } from './direct.js';
import type { WorkloadInfo } from '../../model/workload-info.js';
import type { EnvoyState } from './state.js';
import type { WorkloadIndex } from './workload-index.js';
import { addTo, removeFrom } from '../../collections/index-by.js';

/** Which set: proxyless clients (of a namespace with consumer routes), a waypoint, or an ingress gateway. */
export type EnvoySetKind =
  | { readonly kind: 'proxyless'; readonly clientNamespace?: string }
  | { readonly kind: 'waypoint'; readonly waypoint: string }
  | { readonly kind: 'gateway'; readonly gateway: string };

/** Packed resources by type URL. */
export type PackedEnvoy = ReadonlyMap<string, GeneratedResources>;

export interface EnvoySet {
  readonly state: EnvoyState;
  readonly resources: EnvoyResources;
  readonly packed: PackedEnvoy;
  /** What the next update needs (not for readers). */
  readonly memo: SetMemo;
}

/**
 * The indexes a set is updated with. They are mutated by the next update, which takes them over
 * from its predecessor (`moved`); a set whose memo moved on is rebuilt if used as a base again.
 */
interface SetMemo {
  /** Service key -> what it contributes, in key order. */
  contributions: ReadonlyMap<string, ServiceContribution>;
  /** Backend service key -> keys of the contributing services whose routes name it. */
  readonly byBackend: Map<string, Set<string>>;
  /** Cluster name -> keys of the contributing services that name it. */
  readonly clusterUsers: Map<string, Set<string>>;
  /** Service key -> cluster names of that service used by the set. */
  readonly clustersByService: Map<string, Set<string>>;
  /**
   * Waypoint sets: selector policies of its pods (they go into every chain's RBAC filters) and
   * selector RequestAuthentications (every chain's JWT filter).
   */
  selected: WaypointSelected;
  /** Waypoint sets: what the workloads bound to it contribute (workload-addressed traffic). */
  direct: DirectContribution | undefined;
  moved: boolean;
}

const NOTHING_SELECTED: WaypointSelected = {
  authorizationPolicies: new Set(),
  requestAuthentications: new Set(),
};

const newMemo = (): SetMemo => ({
  contributions: SortedMap.from<ServiceContribution>([]),
  byBackend: new Map(),
  clusterUsers: new Map(),
  clustersByService: new Map(),
  selected: NOTHING_SELECTED,
  direct: undefined,
  moved: false,
});

/**
 * Inputs every service of the set reads: a change there translates the whole set again. Compared
 * by value where a snapshot remakes equal objects (a namespace change re-derives the waypoints and
 * policies; a status write replaces a route or Gateway object).
 */
function wideChanged(before: EnvoyState, after: EnvoyState, kind: EnvoySetKind): boolean {
  return (
    before.options !== after.options ||
    !sameSpecs(before.gateways, after.gateways) ||
    !sameLabels(before.namespaces, after.namespaces) ||
    (kind.kind === 'waypoint' &&
      (!sameList(before.authorizationPolicies, after.authorizationPolicies) ||
        !sameSpecs(before.requestAuthentications, after.requestAuthentications) ||
        !sameSpecs(before.destinationRules, after.destinationRules) ||
        !sameValue(before.waypoints.get(kind.waypoint), after.waypoints.get(kind.waypoint))))
  );
}

function sameList<T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean {
  return a === b || sameValue(a, b);
}

type Spec = { metadata: Meta; spec: unknown };

/**
 * The same object, or one with the same name, creation time, annotations (a route's fault
 * injection) and spec (status aside).
 */
function sameSpec(x: Spec, y: Spec | undefined): boolean {
  return (
    x === y ||
    (y !== undefined &&
      x.metadata.namespace === y.metadata.namespace &&
      x.metadata.name === y.metadata.name &&
      createdMs(x) === createdMs(y) &&
      sameValue(x.metadata.annotations ?? {}, y.metadata.annotations ?? {}) &&
      sameValue(x.spec, y.spec))
  );
}

function sameSpecs(a: readonly Spec[] | undefined, b: readonly Spec[] | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => sameSpec(x, b[i]));
}

/**
 * Routes added, removed or changed (both versions), by comparing the two states' routes by
 * kind/namespace/name. Each names the Services and waypoint Gateways it may attach to.
 */
function changedRoutes(before: EnvoyState, after: EnvoyState): (HTTPRoute | GRPCRoute)[] {
  const out: (HTTPRoute | GRPCRoute)[] = [];
  for (const [a, b] of [
    [before.httpRoutes, after.httpRoutes],
    [before.grpcRoutes, after.grpcRoutes],
  ] as const) {
    if (a === b || sameSpecs(a, b)) continue;
    const key = (r: HTTPRoute | GRPCRoute) => `${r.metadata.namespace}/${r.metadata.name}`;
    const old = new Map((a ?? []).map((r) => [key(r), r]));
    const now = new Map((b ?? []).map((r) => [key(r), r]));
    for (const [k, r] of old) if (!sameSpec(r, now.get(k))) out.push(r);
    for (const [k, r] of now) if (!sameSpec(r, old.get(k))) out.push(r);
  }
  return out;
}

/** Namespaces with the same names and labels (what allowedRoutes selectors read). */
function sameLabels(
  a: readonly Namespace[] | undefined,
  b: readonly Namespace[] | undefined,
): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    return x === y || (nameOf(x) === nameOf(y) && sameValue(labelsOf(x), labelsOf(y)));
  });
}

/**
 * The set for `state`, from `previous` (the same set for an earlier state) when given. `index`
 * holds the workloads of `state` by service.
 */
export function updateSet(
  kind: EnvoySetKind,
  state: EnvoyState,
  index: WorkloadIndex,
  previous?: EnvoySet,
): EnvoySet {
  if (previous?.state === state) return previous;
  if (kind.kind === 'gateway') return gatewaySet(kind.gateway, state, index, previous);
  const waypoint = kind.kind === 'waypoint' ? state.waypoints.get(kind.waypoint) : undefined;
  const usable = previous && !previous.memo.moved;
  const memo = usable ? previous.memo : newMemo();
  if (usable) previous.memo.moved = true;
  const selected = waypoint ? waypointSelected(index, waypoint, state) : NOTHING_SELECTED;
  const full =
    !usable ||
    wideChanged(previous.state, state, kind) ||
    !sameSet(selected.authorizationPolicies, memo.selected.authorizationPolicies) ||
    !sameSet(selected.requestAuthentications, memo.selected.requestAuthentications);
  // Traffic policies are part of every cluster of a waypoint set.
  const trafficPolicies =
    usable &&
    kind.kind === 'waypoint' &&
    !sameSpecs(previous.state.destinationRules, state.destinationRules);
  memo.selected = selected;
  memo.moved = false;

  // Services to translate again, and services whose endpoints changed.
  const dirty = new Set<string>();
  const endpoints = new Set<string>();
  let directDirty = false;
  if (full) {
    for (const key of memo.contributions.keys()) dirty.add(key);
    for (const key of state.services.keys()) dirty.add(key);
  } else {
    forEachChange(previous!.state.services, state.services, (key) => {
      dirty.add(key);
      for (const user of memo.byBackend.get(key) ?? []) dirty.add(user);
    });
    // A route touches the Services it names as parents; one attached to this waypoint's Gateway,
    // every Service of the set.
    const suffix = state.options.domainSuffix;
    for (const route of changedRoutes(previous!.state, state))
      for (const p of route.spec.parentRefs) {
        if (p.group === '' && p.kind === 'Service')
          dirty.add(`${p.namespace}/${p.name}.${p.namespace}.svc.${suffix}`);
        else if (kind.kind === 'waypoint' && `${p.namespace}/${p.name}` === kind.waypoint)
          for (const key of memo.contributions.keys()) dirty.add(key);
      }
    forEachChange(previous!.state.workloads, state.workloads, (uid, w) => {
      const was = previous!.state.workloads.get(uid);
      for (const k of Object.keys(was?.services ?? {})) endpoints.add(k);
      for (const k of Object.keys(w?.services ?? {})) endpoints.add(k);
      if (kind.kind === 'waypoint' && (boundTo(was, kind.waypoint) || boundTo(w, kind.waypoint)))
        directDirty = true;
    });
  }
  const directBefore = memo.direct;
  if (waypoint && (full || directDirty))
    memo.direct = directContribution(
      state,
      waypoint,
      boundWorkloads(state, waypoint.key),
      selected,
    );
  else if (!waypoint) memo.direct = undefined;
  const directChanged = memo.direct !== directBefore;

  const before = memo.contributions;
  const { byBackend, clusterUsers, clustersByService } = memo;
  const contributionChanges = new Map<string, ServiceContribution | undefined>();
  const dirtyClusters = new Set<string>();
  const clusterRefs = new Map<string, ClusterRef>();
  /** Whether each cluster touched had users when this update began. */
  const used = new Map<string, boolean>();
  let notesChanged =
    !previous || (directChanged && !sameValue(directBefore?.notes, memo.direct?.notes));
  for (const key of dirty) {
    const old = before.get(key);
    const service = state.services.get(key);
    const next =
      service && inSet(kind, service)
        ? kind.kind === 'proxyless'
          ? proxylessService(state, service, kind.clientNamespace)
          : waypointService(state, waypoint!, service, selected)
        : undefined;
    if (old === undefined && next === undefined) continue;
    contributionChanges.set(key, next);
    if (old?.notes.length || next?.notes.length) notesChanged = true;
    // A cluster is built again only when what it is built from (its service and port) changed,
    // or it gained its first user or lost its last (see `used` below).
    const was = new Map<string, ClusterRef>();
    if (old) {
      for (const b of old.backends) removeFrom(byBackend, b, key);
      for (const c of old.clusters) {
        if (!used.has(c.cluster)) used.set(c.cluster, clusterUsers.has(c.cluster));
        removeFrom(clusterUsers, c.cluster, key);
        removeFrom(clustersByService, c.service.key, c.cluster);
        was.set(c.cluster, c);
      }
    }
    if (next) {
      for (const b of next.backends) addTo(byBackend, b, key);
      for (const c of next.clusters) {
        if (!used.has(c.cluster)) used.set(c.cluster, clusterUsers.has(c.cluster));
        addTo(clusterUsers, c.cluster, key);
        addTo(clustersByService, c.service.key, c.cluster);
        const before = was.get(c.cluster);
        if (!before || before.service !== c.service || before.port !== c.port) {
          clusterRefs.set(c.cluster, c);
          dirtyClusters.add(c.cluster);
        }
      }
    }
  }
  const contributions = withChanges(before, contributionChanges);
  memo.contributions = contributions;
  for (const [name, usedBefore] of used)
    if (clusterUsers.has(name) !== usedBefore) dirtyClusters.add(name);
  for (const serviceKey of endpoints)
    for (const c of clustersByService.get(serviceKey) ?? []) dirtyClusters.add(c);
  if (trafficPolicies) for (const c of clusterUsers.keys()) dirtyClusters.add(c);

  const prevResources = usable ? previous.resources : undefined;
  const listeners = new Map<string, Listener | undefined>();
  const routes = new Map<string, RouteConfiguration | undefined>();
  for (const key of contributionChanges.keys()) {
    for (const [name] of before.get(key)?.listeners ?? []) listeners.set(name, undefined);
    for (const [name] of before.get(key)?.routes ?? []) routes.set(name, undefined);
  }
  for (const [, next] of contributionChanges) {
    for (const [name, l] of next?.listeners ?? []) listeners.set(name, l);
    for (const [name, r] of next?.routes ?? []) routes.set(name, r);
  }
  if (
    kind.kind === 'waypoint' &&
    (contributionChanges.size > 0 || directChanged || !prevResources)
  ) {
    const chains = [...contributions.values()].flatMap((c) => c.chains);
    chains.push(...(memo.direct?.chains ?? []));
    listeners.set(WAYPOINT_LISTENER_NAME, chains.length > 0 ? waypointListener(chains) : undefined);
  }
  const clusters = new Map<string, Cluster | undefined>();
  const assignments = new Map<string, ClusterLoadAssignment | undefined>();
  for (const name of dirtyClusters) {
    const users = clusterUsers.get(name);
    const ref = clusterRefs.get(name) ?? refOf(name, contributions, users);
    if (!users?.size || !ref) {
      clusters.set(name, undefined);
      assignments.set(name, undefined);
      continue;
    }
    const waypointSet = kind.kind === 'waypoint';
    clusters.set(
      name,
      waypointSet
        ? waypointCluster(ref, state.destinationRules ?? [], state.options.rootNamespace)
        : edsCluster(name, { http2: false }),
    );
    assignments.set(
      name,
      clusterLoadAssignment(name, ref.service, ref.port, index.workloadsOf(ref.service.key), {
        meshMetadata: waypointSet,
      }),
    );
  }
  if (directChanged) {
    if (directBefore) {
      routes.set(directBefore.route.name, undefined);
      clusters.set(directBefore.cluster.name, undefined);
    }
    if (memo.direct) {
      routes.set(memo.direct.route.name, memo.direct.route);
      clusters.set(memo.direct.cluster.name, memo.direct.cluster);
    }
  }
  const apply = <T>(
    prev: ReadonlyMap<string, T> | undefined,
    changes: Map<string, T | undefined>,
  ) => withChanges(prev ?? EMPTY_SORTED, prune(prev, changes)) as ReadonlyMap<string, T>;
  const resources: EnvoyResources = {
    listeners: apply(prevResources?.listeners, listeners),
    routes: apply(prevResources?.routes, routes),
    clusters: apply(prevResources?.clusters, clusters),
    endpoints: apply(prevResources?.endpoints, assignments),
    notes:
      notesChanged || !prevResources
        ? mergedNotes(contributions, memo.direct)
        : prevResources.notes,
  };
  return { state, resources, packed: packSet(resources, previous?.packed), memo };
}

const EMPTY_SORTED = SortedMap.from<never>([]);

/**
 * An ingress gateway's set: translated whole for each state (a gateway's routes are few), packed
 * from the previous set, so unchanged messages keep their version and a changed Secret changes
 * SDS only.
 */
function gatewaySet(
  key: string,
  state: EnvoyState,
  index: WorkloadIndex,
  previous: EnvoySet | undefined,
): EnvoySet {
  const gw = ingressGateways(state).get(key);
  const resources: EnvoyResources = gw
    ? gatewayResources(state, gw, index)
    : {
        listeners: EMPTY_SORTED,
        routes: EMPTY_SORTED,
        clusters: EMPTY_SORTED,
        endpoints: EMPTY_SORTED,
        secrets: EMPTY_SORTED,
        notes: [],
      };
  return { state, resources, packed: packSet(resources, previous?.packed), memo: newMemo() };
}

/** The changes that change something: removing an absent name or setting the same object is none. */
function prune<T>(
  prev: ReadonlyMap<string, T> | undefined,
  changes: Map<string, T | undefined>,
): Map<string, T | undefined> {
  for (const [k, v] of changes) if (prev?.get(k) === v) changes.delete(k);
  return changes;
}

function refOf(
  cluster: string,
  contributions: ReadonlyMap<string, ServiceContribution>,
  users: ReadonlySet<string> | undefined,
): ClusterRef | undefined {
  for (const user of users ?? [])
    for (const c of contributions.get(user)?.clusters ?? []) if (c.cluster === cluster) return c;
  return undefined;
}

function boundTo(w: WorkloadInfo | undefined, waypoint: string): boolean {
  return w?.waypoint?.waypoint === waypoint;
}

function inSet(kind: EnvoySetKind, service: ServiceInfo): boolean {
  return (
    kind.kind === 'proxyless' ||
    (kind.kind === 'waypoint' && service.waypoint?.waypoint === kind.waypoint)
  );
}

/** Notes of the contributions in service order, each once. */
function mergedNotes(
  contributions: ReadonlyMap<string, ServiceContribution>,
  direct: DirectContribution | undefined,
): EnvoyNote[] {
  const seen = new Set<string>();
  const out: EnvoyNote[] = [];
  for (const c of [...contributions.values(), ...(direct ? [direct] : [])])
    for (const n of c.notes) {
      const k = `${n.kind}\0${n.object}\0${n.message}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(n);
    }
  return out;
}

/**
 * Selector policies and RequestAuthentications that select any pod of the waypoint (pods
 * labelled with its Gateway name).
 */
function waypointSelected(
  index: WorkloadIndex,
  waypoint: WaypointInfo,
  state: EnvoyState,
): WaypointSelected {
  const pods = index
    .podsOfGateway(waypoint.namespace, waypoint.name)
    .filter((w) => w.labels[LABEL_GATEWAY_NAME] === waypoint.name);
  const authorizationPolicies = new Set<string>();
  for (const w of pods) for (const k of w.authorizationPolicies) authorizationPolicies.add(k);
  const requestAuthentications = selectedRequestAuthentications(
    state.requestAuthentications ?? [],
    state.options.rootNamespace,
    pods,
  );
  return { authorizationPolicies, requestAuthentications };
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

const NO_SECRETS: ReadonlyMap<string, Secret> = SortedMap.from<Secret>([]);

function packSet(r: EnvoyResources, previous: PackedEnvoy | undefined): PackedEnvoy {
  const pack = <Desc extends DescMessage>(
    typeUrl: string,
    schema: Desc,
    messages: ReadonlyMap<string, MessageShape<Desc>>,
  ) =>
    [
      typeUrl,
      packMessages(messages, previous?.get(typeUrl), schema, (m) => packAny(schema, m)),
    ] as const;
  return new Map([
    pack(LISTENER_TYPE_URL, ListenerSchema, r.listeners),
    pack(ROUTE_CONFIGURATION_TYPE_URL, RouteConfigurationSchema, r.routes),
    pack(CLUSTER_TYPE_URL, ClusterSchema, r.clusters),
    pack(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, ClusterLoadAssignmentSchema, r.endpoints),
    pack(SECRET_TYPE_URL, SecretSchema, r.secrets ?? NO_SECRETS),
  ]);
}
