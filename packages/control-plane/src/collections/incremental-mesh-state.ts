// The MeshState of each new snapshot, recomputing only what the objects changed since the previous
// one touch. What each input kind touches is declared once, in INPUTS below (a kind missing from
// it does not compile): namespaces, Gateways and policies are read by everything, so a change
// there recomputes everything; pods, EndpointSlices, Nodes and Services name the pods, slices and
// services they touch. Objects are compared by identity (informers and the benchmark keep
// unchanged objects); a recomputed info equal to the previous one keeps the previous object, so
// translate and pack skip it. The result always equals deriveMeshState(snapshot)
// (property-tested). Pure: no I/O, the state lives in the deriver.
import {
  emptySnapshot,
  type ClusterSnapshot,
  type EndpointSlice,
  type Pod,
  type Service,
} from '../model/kube.js';
import { resolveMeshOptions, type MeshOptions } from '../model/options.js';
import type { ServiceInfo } from '../model/service-info.js';
import type { WorkloadInfo } from '../model/workload-info.js';
import { LABEL_GATEWAY_NAME, LABEL_SERVICE_NAME } from '../model/well-known.js';
import { endpointSliceWorkloads } from './endpoint-slice-workloads.js';
import {
  deriveMeshState,
  deriveMeshWide,
  slicePodKeys,
  type MeshState,
  type MeshWide,
} from './mesh-state.js';
import { keyOf, labelsOf, nameOf, namespaceOf } from './meta.js';
import { withChanges } from './map-changes.js';
import { sameValue } from './same-value.js';
import { isSubset } from './selector.js';
import { serviceInfo, serviceKey } from './services.js';
import {
  claimedIPs,
  localityOf,
  podWorkload,
  podWorkloadUid,
  type PodWorkloadContext,
} from './workloads.js';
import { addTo, removeFrom } from './index-by.js';

export interface MeshStateDeriver {
  /** Equal to `deriveMeshState(snapshot, options)`; unchanged infos are the previous call's objects. */
  derive(snapshot: ClusterSnapshot): MeshState;
}

interface Cache {
  snapshot: ClusterSnapshot;
  state: MeshState;
  wide: MeshWide;
  /** The snapshot's objects of each keyed kind, by key (`<namespace>/<name>`, nodes by name). */
  objects: { [K in KeyedKind]: Map<string, ClusterSnapshot[K][number]> };
  podsByNamespace: Map<string, Set<string>>;
  podsByNode: Map<string, Set<string>>;
  /** Pods by the IPs their workloads claim (duplicates are reported on every claimant). */
  podsByIP: Map<string, Set<string>>;
  /**
   * Slice keys by their `kubernetes.io/service-name` label. A slice's workloads read the Service of
   * that name in the slice's namespace, the pods it lists the one in their own namespace.
   */
  slicesByService: Map<string, Set<string>>;
  slicesByPod: Map<string, EndpointSlice[]>;
  /** Services with a selector, by namespace (any order: podWorkload sorts what it finds). */
  selectingServices: Map<string, ServiceInfo[]>;
  /** Uids of each slice's non-pod workloads. */
  sliceWorkloads: Map<string, string[]>;
}

/** What a change touches, filled by the INPUTS rules. */
interface Dirty {
  /** Everything is recomputed. */
  wide: boolean;
  pods: Set<string>;
  slices: Set<string>;
  /** Object keys of Services to recompute (and, when their info changed, what reads them). */
  services: Set<string>;
}

/**
 * How one kind of input reaches the MeshState:
 * - `wide`: read by every workload and service (a change recomputes everything);
 * - `unread`: not read by the MeshState (the Envoy stage or the CA reads it);
 * - keyed: `key` identifies an object; `touch` updates the deriver's indexes for one object that
 *   was added, replaced or removed, and marks what it touches.
 */
type InputRule<T> =
  | 'wide'
  | 'unread'
  | {
      key(o: T): string;
      touch(c: Cache, key: string, before: T | undefined, after: T | undefined, d: Dirty): void;
    };

type KeyedKind = 'pods' | 'endpointSlices' | 'nodes' | 'services';

/** The dependency rules of the derivation: one entry per input kind. */
const INPUTS: {
  readonly [K in keyof ClusterSnapshot]: K extends KeyedKind
    ? Exclude<InputRule<ClusterSnapshot[K][number]>, 'wide' | 'unread'>
    : 'wide' | 'unread';
} = {
  namespaces: 'wide',
  gateways: 'wide',
  authorizationPolicies: 'wide',
  peerAuthentications: 'wide',
  serviceAccounts: 'unread',
  requestAuthentications: 'unread',
  destinationRules: 'unread',
  httpRoutes: 'unread',
  grpcRoutes: 'unread',
  tlsRoutes: 'unread',
  tcpRoutes: 'unread',
  referenceGrants: 'unread',
  listenerSets: 'unread',
  secrets: 'unread',
  gatewayClasses: 'unread',
  backendTLSPolicies: 'unread',
  configMaps: 'unread',
  // A pod: its own workload, and the workloads of pods claiming the same IPs (reported as
  // duplicates). A pod labelled as a Gateway's instance changes that waypoint: everything.
  pods: {
    key: keyOf,
    touch(c, key, before, after, d) {
      if (isGatewayInstance(before) || isGatewayInstance(after)) d.wide = true;
      if (before) {
        removeFrom(c.podsByNamespace, namespaceOf(before), key);
        removeFrom(c.podsByNode, before.spec?.nodeName ?? '', key);
        for (const ip of claimedIPs(before)) removeFrom(c.podsByIP, ip, key);
      }
      if (after) {
        addTo(c.podsByNamespace, namespaceOf(after), key);
        addTo(c.podsByNode, after.spec?.nodeName ?? '', key);
        for (const ip of claimedIPs(after)) addTo(c.podsByIP, ip, key);
      }
      d.pods.add(key);
      const ips = (p: Pod | undefined) => (p ? claimedIPs(p) : []);
      for (const ip of new Set([...ips(before), ...ips(after)]))
        for (const other of c.podsByIP.get(ip) ?? []) d.pods.add(other);
    },
  },
  // A slice: the pods it lists (before and after) and its own non-pod workloads.
  endpointSlices: {
    key: keyOf,
    touch(c, key, before, after, d) {
      if (before) {
        removeFrom(c.slicesByService, sliceServiceKey(before), key);
        for (const podKey of new Set(slicePodKeys(before))) {
          const list = c.slicesByPod.get(podKey)?.filter((s) => s !== before) ?? [];
          if (list.length > 0) c.slicesByPod.set(podKey, list);
          else c.slicesByPod.delete(podKey);
          d.pods.add(podKey);
        }
      }
      if (after) {
        addTo(c.slicesByService, sliceServiceKey(after), key);
        for (const podKey of new Set(slicePodKeys(after))) {
          c.slicesByPod.set(podKey, [...(c.slicesByPod.get(podKey) ?? []), after]);
          d.pods.add(podKey);
        }
      }
      d.slices.add(key);
    },
  },
  // A node: the pods on it, when its locality changed.
  nodes: {
    key: nameOf,
    touch(c, name, before, after, d) {
      if (!sameValue(before && localityOf(before), after && localityOf(after)))
        for (const podKey of c.podsByNode.get(name) ?? []) d.pods.add(podKey);
    },
  },
  // A Service: its ServiceInfo; when that changed, the pods its old or new selector matches, the
  // pods its slices list and those slices' workloads (see updateServices).
  services: {
    key: keyOf,
    touch: (_c, key, _before, _after, d) => void d.services.add(key),
  },
};

const KEYED_KINDS: readonly KeyedKind[] = ['pods', 'endpointSlices', 'nodes', 'services'];
const WIDE_KINDS = (Object.keys(INPUTS) as (keyof ClusterSnapshot)[]).filter(
  (k) => INPUTS[k] === 'wide',
);

export function createMeshStateDeriver(meshOptions: MeshOptions = {}): MeshStateDeriver {
  const options = resolveMeshOptions(meshOptions);
  let cache: Cache | undefined;
  return {
    derive(snapshot) {
      const c = cache ?? emptyCache(options);
      cache = undefined; // kept only if the update completes
      const d: Dirty = {
        wide:
          c.snapshot === EMPTY_SNAPSHOT ||
          WIDE_KINDS.some(
            (k) =>
              !sameItems<unknown>(
                c.snapshot[k] as readonly unknown[],
                snapshot[k] as readonly unknown[],
              ),
          ),
        pods: new Set(),
        slices: new Set(),
        services: new Set(),
      };
      for (const kind of KEYED_KINDS) {
        const rule = INPUTS[kind] as Exclude<InputRule<object>, 'wide' | 'unread'>;
        const byKey = c.objects[kind] as Map<string, object>;
        const changed = diffObjects<object>(
          c.snapshot[kind] as readonly object[],
          snapshot[kind] as readonly object[],
          byKey,
          rule.key,
        );
        // Duplicate keys make the result depend on order: derive in full, start over next time.
        if (!changed) return deriveMeshState(snapshot, options);
        for (const [key, { before, after }] of changed) rule.touch(c, key, before, after, d);
      }
      if (d.wide) c.wide = deriveMeshWide(snapshot, options);
      const state = update(c, d);
      c.snapshot = snapshot;
      c.state = state;
      cache = c;
      return state;
    },
  };
}

const EMPTY_SNAPSHOT: ClusterSnapshot = emptySnapshot();

function emptyCache(options: MeshState['options']): Cache {
  const state: MeshState = {
    options,
    waypoints: new Map(),
    services: new Map(),
    workloads: new Map(),
    authorizationPolicies: [],
    peerAuthentications: [],
  };
  return {
    snapshot: EMPTY_SNAPSHOT,
    state,
    wide: deriveMeshWide(EMPTY_SNAPSHOT, options),
    objects: { pods: new Map(), endpointSlices: new Map(), nodes: new Map(), services: new Map() },
    podsByNamespace: new Map(),
    podsByNode: new Map(),
    podsByIP: new Map(),
    slicesByService: new Map(),
    slicesByPod: new Map(),
    selectingServices: new Map(),
    sliceWorkloads: new Map(),
  };
}

function update(c: Cache, d: Dirty): MeshState {
  const { options } = c.state;
  const services = updateServices(c, d);
  if (d.wide) {
    for (const key of c.objects.pods.keys()) d.pods.add(key);
    for (const key of c.objects.endpointSlices.keys()) d.slices.add(key);
  }
  const ctx: PodWorkloadContext = {
    options,
    waypoints: c.wide.lookup,
    selectingServices: c.selectingServices,
    services,
    slicesByPod: c.slicesByPod,
    nodes: c.objects.nodes,
    policiesFor: c.wide.policiesFor,
    podsWithIP: (ip) => c.podsByIP.get(ip) ?? [],
  };
  const workloadChanges = new Map<string, WorkloadInfo | undefined>();
  const keep = (uid: string, next: WorkloadInfo | undefined) => {
    const previous = c.state.workloads.get(uid);
    if (next && previous && sameValue(next, previous)) return;
    if (next !== previous) workloadChanges.set(uid, next);
  };
  for (const podKey of d.pods) {
    const pod = c.objects.pods.get(podKey);
    const [ns, name] = splitKey(podKey);
    keep(podWorkloadUid(options.clusterId, ns, name), pod && podWorkload(pod, ctx));
  }
  for (const sliceKey of d.slices) {
    const slice = c.objects.endpointSlices.get(sliceKey);
    const next = slice ? endpointSliceWorkloads(slice, services, options) : [];
    const uids = next.map((w) => w.uid);
    for (const uid of c.sliceWorkloads.get(sliceKey) ?? [])
      if (!uids.includes(uid)) keep(uid, undefined);
    for (const w of next) keep(w.uid, w);
    if (uids.length > 0) c.sliceWorkloads.set(sliceKey, uids);
    else c.sliceWorkloads.delete(sliceKey);
  }

  return {
    options,
    waypoints: c.wide.waypoints,
    services,
    workloads: withChanges(c.state.workloads, workloadChanges),
    authorizationPolicies: c.wide.authorizationPolicies,
    peerAuthentications: c.wide.peerAuthentications,
  };
}

/**
 * Recomputes the marked Services (all of them when the wide inputs changed); a ServiceInfo that
 * changed marks the pods its old or new selector matches, the pods its slices list and the slices.
 */
function updateServices(c: Cache, d: Dirty): ReadonlyMap<string, ServiceInfo> {
  const { options } = c.state;
  const serviceKeys = d.wide ? new Set([...d.services, ...c.objects.services.keys()]) : d.services;
  const serviceChanges = new Map<string, ServiceInfo | undefined>();
  for (const objectKey of serviceKeys) {
    const svc: Service | undefined = c.objects.services.get(objectKey);
    const [ns, name] = splitKey(objectKey);
    const key = serviceKey(ns, name, options);
    const previous = c.state.services.get(key);
    let info = svc && serviceInfo(svc, c.wide.namespaces.get(ns), c.wide.lookup, options);
    if (info && previous && sameValue(info, previous)) info = previous;
    if (info === previous) continue;
    serviceChanges.set(key, info);
    const selecting = (c.selectingServices.get(ns) ?? []).filter((s) => s.key !== key);
    if (info?.selector) selecting.push(info);
    c.selectingServices.set(ns, selecting);
    for (const podKey of c.podsByNamespace.get(ns) ?? []) {
      const labels = labelsOf(c.objects.pods.get(podKey));
      if (
        (previous?.selector && isSubset(previous.selector, labels)) ||
        (info?.selector && isSubset(info.selector, labels))
      )
        d.pods.add(podKey);
    }
    for (const sliceKey of c.slicesByService.get(name) ?? []) {
      const slice = c.objects.endpointSlices.get(sliceKey)!;
      if (namespaceOf(slice) === ns) d.slices.add(sliceKey);
      for (const podKey of slicePodKeys(slice)) if (podKey.startsWith(`${ns}/`)) d.pods.add(podKey);
    }
  }
  return withChanges(c.state.services, serviceChanges);
}

/** An object key whose object was added, replaced or removed. */
type Changed<T> = Map<string, { before?: T; after?: T }>;

/**
 * The keys whose object differs between `before` and `after` (by identity), updating `byKey` (the
 * objects of `before`) to those of `after`; undefined when `after` has a key twice. Same-length
 * arrays with replaced objects at the same positions (informer lists) are compared in one pass.
 */
function diffObjects<T extends object>(
  before: readonly T[],
  after: readonly T[],
  byKey: Map<string, T>,
  keyFn: (o: T) => string,
): Changed<T> | undefined {
  const changed: Changed<T> = new Map();
  if (before.length === after.length) {
    let aligned = true;
    for (let i = 0; i < after.length && aligned; i++) {
      const a = before[i]!;
      const b = after[i]!;
      if (a === b) continue;
      const key = keyFn(b);
      if (keyFn(a) === key && !changed.has(key)) changed.set(key, { before: a, after: b });
      else aligned = false;
    }
    if (aligned) {
      for (const [key, { after: b }] of changed) byKey.set(key, b!);
      return changed;
    }
    changed.clear();
  }
  const next = new Map<string, T>();
  for (const o of after) {
    const key = keyFn(o);
    if (next.has(key)) return undefined;
    next.set(key, o);
    const old = byKey.get(key);
    if (old !== o) changed.set(key, { before: old, after: o });
  }
  for (const [key, old] of byKey) if (!next.has(key)) changed.set(key, { before: old });
  byKey.clear();
  for (const [key, o] of next) byKey.set(key, o);
  return changed;
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a === b || (a.length === b.length && a.every((x, i) => x === b[i]));
}

function isGatewayInstance(pod: Pod | undefined): boolean {
  return pod !== undefined && labelsOf(pod)[LABEL_GATEWAY_NAME] !== undefined;
}

function sliceServiceKey(slice: EndpointSlice): string {
  return labelsOf(slice)[LABEL_SERVICE_NAME] ?? '';
}

/** `<namespace>/<name>` -> [namespace, name] (namespaces never hold a slash). */
function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}
