// Workloads by the services they back (for endpoints) and waypoint pods by Gateway (for the
// selector policies of a waypoint), for one state, made from the index of an earlier state by the
// workloads that changed. Shared by every Envoy set of a pipeline. Pure: the index owns its maps,
// and an index that was advanced is not advanced again (a later call starts over).
import { forEachChange } from '../../collections/map-changes.js';
import type { WorkloadInfo } from '../../model/workload-info.js';
import { LABEL_GATEWAY_NAME } from '../../model/well-known.js';
import type { EnvoyState } from './state.js';

export interface WorkloadIndex {
  readonly state: EnvoyState;
  /** The workloads backing a service (`<namespace>/<hostname>`), in uid order. */
  workloadsOf(serviceKey: string): WorkloadInfo[];
  /** Pods labelled as instances of the Gateway `<namespace>/<name>`. */
  podsOfGateway(namespace: string, name: string): WorkloadInfo[];
}

interface Maps {
  byService: Map<string, Map<string, WorkloadInfo>>;
  byGateway: Map<string, Map<string, WorkloadInfo>>;
  /** Set once a later index took these maps over. */
  moved: boolean;
}

const maps = new WeakMap<WorkloadIndex, Maps>();

export function workloadIndex(state: EnvoyState, previous?: WorkloadIndex): WorkloadIndex {
  if (previous?.state === state) return previous;
  const old = previous && maps.get(previous);
  let m: Maps;
  if (old && !old.moved) {
    old.moved = true;
    m = { byService: old.byService, byGateway: old.byGateway, moved: false };
    forEachChange(previous!.state.workloads, state.workloads, (uid, w) => {
      const before = previous!.state.workloads.get(uid);
      if (before) remove(m, before);
      if (w) add(m, w);
    });
  } else {
    m = { byService: new Map(), byGateway: new Map(), moved: false };
    for (const w of state.workloads.values()) add(m, w);
  }
  return makeIndex(state, m);
}

/**
 * The index object, made apart from `workloadIndex` so that its functions do not share a scope
 * with `previous` (V8 keeps a closure's whole scope: every index would hold the one before it,
 * and with it every earlier state).
 */
function makeIndex(state: EnvoyState, m: Maps): WorkloadIndex {
  const sorted = (group: Map<string, WorkloadInfo> | undefined) =>
    group
      ? [...group.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, w]) => w)
      : [];
  const index: WorkloadIndex = {
    state,
    workloadsOf: (key) => sorted(m.byService.get(key)),
    podsOfGateway: (ns, name) => [...(m.byGateway.get(`${ns}/${name}`)?.values() ?? [])],
  };
  maps.set(index, m);
  return index;
}

function gatewayOf(w: WorkloadInfo): string | undefined {
  const gw = w.source === 'Pod' ? w.labels[LABEL_GATEWAY_NAME] : undefined;
  return gw ? `${w.namespace}/${gw}` : undefined;
}

function add(m: Maps, w: WorkloadInfo): void {
  for (const key of Object.keys(w.services)) group(m.byService, key).set(w.uid, w);
  const gw = gatewayOf(w);
  if (gw) group(m.byGateway, gw).set(w.uid, w);
}

function remove(m: Maps, w: WorkloadInfo): void {
  for (const key of Object.keys(w.services)) ungroup(m.byService, key, w.uid);
  const gw = gatewayOf(w);
  if (gw) ungroup(m.byGateway, gw, w.uid);
}

function group(index: Map<string, Map<string, WorkloadInfo>>, key: string) {
  let g = index.get(key);
  if (!g) index.set(key, (g = new Map()));
  return g;
}

function ungroup(index: Map<string, Map<string, WorkloadInfo>>, key: string, uid: string) {
  const g = index.get(key);
  if (!g) return;
  g.delete(uid);
  if (g.size === 0) index.delete(key);
}
