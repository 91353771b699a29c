// The MeshState of each new snapshot, recomputing only what the objects changed since the previous
// one touch: a pod -> its workload; an EndpointSlice -> the pods it lists (before and after) and
// its own non-pod workloads; a Service -> its ServiceInfo and, if that changed, the pods its
// selector matches (before and after), the pods its slices list and those slices' workloads; a
// Node -> the pods on it when its locality changed. Namespaces, Gateways (and pods labelled as
// their instances) and policies are read by everything: a change there recomputes everything.
// Objects are compared by identity (informers and the benchmark keep unchanged objects); a
// recomputed info equal to the previous one keeps the previous object, so translate and pack skip
// it. The result always equals deriveMeshState(snapshot) (property-tested). Pure: no I/O, the
// state lives in the deriver.
import {
  emptySnapshot,
  type ClusterSnapshot,
  type EndpointSlice,
  type Node,
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
import { localityOf, podWorkload, podWorkloadUid, type PodWorkloadContext } from './workloads.js';

export interface MeshStateDeriver {
  /** Equal to `deriveMeshState(snapshot, options)`; unchanged infos are the previous call's objects. */
  derive(snapshot: ClusterSnapshot): MeshState;
}

interface Cache {
  snapshot: ClusterSnapshot;
  state: MeshState;
  wide: MeshWide;
  /** The snapshot's objects by `<namespace>/<name>` (nodes by name). */
  pods: Map<string, Pod>;
  services: Map<string, Service>;
  slices: Map<string, EndpointSlice>;
  nodes: Map<string, Node>;
  podsByNamespace: Map<string, Set<string>>;
  podsByNode: Map<string, Set<string>>;
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

/** An object key whose object was added, replaced or removed. */
type Changed<T> = Map<string, { before?: T; after?: T }>;

export function createMeshStateDeriver(meshOptions: MeshOptions = {}): MeshStateDeriver {
  const options = resolveMeshOptions(meshOptions);
  let cache: Cache | undefined;
  return {
    derive(snapshot) {
      const c = cache ?? emptyCache(options);
      cache = undefined; // kept only if the update completes
      const pods = diffObjects(c.snapshot.pods, snapshot.pods, c.pods, keyOf);
      const services = diffObjects(c.snapshot.services, snapshot.services, c.services, keyOf);
      const slices = diffObjects(
        c.snapshot.endpointSlices,
        snapshot.endpointSlices,
        c.slices,
        keyOf,
      );
      const nodes = diffObjects(c.snapshot.nodes, snapshot.nodes, c.nodes, nameOf);
      // Duplicate keys make the result depend on order: derive in full, start over next time.
      if (!pods || !services || !slices || !nodes) return deriveMeshState(snapshot, options);
      const wide =
        c.snapshot === EMPTY_SNAPSHOT ||
        !sameItems(c.snapshot.namespaces, snapshot.namespaces) ||
        !sameItems(c.snapshot.gateways, snapshot.gateways) ||
        !sameItems(c.snapshot.authorizationPolicies, snapshot.authorizationPolicies) ||
        !sameItems(c.snapshot.peerAuthentications, snapshot.peerAuthentications) ||
        [...pods.values()].some((p) => isGatewayInstance(p.before) || isGatewayInstance(p.after));
      if (wide) c.wide = deriveMeshWide(snapshot, options);
      const state = update(c, { pods, services, slices, nodes }, wide);
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
    pods: new Map(),
    services: new Map(),
    slices: new Map(),
    nodes: new Map(),
    podsByNamespace: new Map(),
    podsByNode: new Map(),
    slicesByService: new Map(),
    slicesByPod: new Map(),
    selectingServices: new Map(),
    sliceWorkloads: new Map(),
  };
}

interface Changes {
  pods: Changed<Pod>;
  services: Changed<Service>;
  slices: Changed<EndpointSlice>;
  nodes: Changed<Node>;
}

function update(c: Cache, ch: Changes, wide: boolean): MeshState {
  const { options } = c.state;
  const dirtyPods = new Set<string>();
  const dirtySlices = new Set<string>();

  for (const [key, { before, after }] of ch.pods) {
    if (before) {
      removeFrom(c.podsByNamespace, namespaceOf(before), key);
      removeFrom(c.podsByNode, before.spec?.nodeName ?? '', key);
    }
    if (after) {
      addTo(c.podsByNamespace, namespaceOf(after), key);
      addTo(c.podsByNode, after.spec?.nodeName ?? '', key);
    }
    dirtyPods.add(key);
  }
  for (const [key, { before, after }] of ch.slices) {
    if (before) {
      removeFrom(c.slicesByService, sliceServiceKey(before), key);
      for (const podKey of new Set(slicePodKeys(before))) {
        const list = c.slicesByPod.get(podKey)?.filter((s) => s !== before) ?? [];
        if (list.length > 0) c.slicesByPod.set(podKey, list);
        else c.slicesByPod.delete(podKey);
        dirtyPods.add(podKey);
      }
    }
    if (after) {
      addTo(c.slicesByService, sliceServiceKey(after), key);
      for (const podKey of new Set(slicePodKeys(after))) {
        c.slicesByPod.set(podKey, [...(c.slicesByPod.get(podKey) ?? []), after]);
        dirtyPods.add(podKey);
      }
    }
    dirtySlices.add(key);
  }
  for (const [name, { before, after }] of ch.nodes) {
    const was = before && localityOf(before);
    const is = after && localityOf(after);
    if (!sameValue(was, is))
      for (const podKey of c.podsByNode.get(name) ?? []) dirtyPods.add(podKey);
  }

  // Services: recompute the changed ones (all when the wide inputs changed).
  const serviceKeys = wide
    ? new Set([...ch.services.keys(), ...c.services.keys()])
    : ch.services.keys();
  const serviceChanges = new Map<string, ServiceInfo | undefined>();
  for (const objectKey of serviceKeys) {
    const svc = c.services.get(objectKey);
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
      const labels = labelsOf(c.pods.get(podKey));
      if (
        (previous?.selector && isSubset(previous.selector, labels)) ||
        (info?.selector && isSubset(info.selector, labels))
      )
        dirtyPods.add(podKey);
    }
    for (const sliceKey of c.slicesByService.get(name) ?? []) {
      const slice = c.slices.get(sliceKey)!;
      if (namespaceOf(slice) === ns) dirtySlices.add(sliceKey);
      for (const podKey of slicePodKeys(slice))
        if (podKey.startsWith(`${ns}/`)) dirtyPods.add(podKey);
    }
  }
  const services = withChanges(c.state.services, serviceChanges);

  if (wide) {
    for (const key of c.pods.keys()) dirtyPods.add(key);
    for (const key of c.slices.keys()) dirtySlices.add(key);
  }
  const ctx: PodWorkloadContext = {
    options,
    waypoints: c.wide.lookup,
    selectingServices: c.selectingServices,
    services,
    slicesByPod: c.slicesByPod,
    nodes: c.nodes,
    policiesFor: c.wide.policiesFor,
  };
  const workloadChanges = new Map<string, WorkloadInfo | undefined>();
  const keep = (uid: string, next: WorkloadInfo | undefined) => {
    const previous = c.state.workloads.get(uid);
    if (next && previous && sameValue(next, previous)) return;
    if (next !== previous) workloadChanges.set(uid, next);
  };
  for (const podKey of dirtyPods) {
    const pod = c.pods.get(podKey);
    const [ns, name] = splitKey(podKey);
    keep(podWorkloadUid(options.clusterId, ns, name), pod && podWorkload(pod, ctx));
  }
  for (const sliceKey of dirtySlices) {
    const slice = c.slices.get(sliceKey);
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

function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (set) set.add(value);
  else index.set(key, new Set([value]));
}

function removeFrom(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}
