// The derived mesh: every collection computed from one snapshot, with the indexes they share.
import type { ClusterSnapshot, EndpointSlice, Namespace } from '../model/kube.js';
import {
  resolveMeshOptions,
  type MeshOptions,
  type ResolvedMeshOptions,
} from '../model/options.js';
import type { AuthorizationPolicyInfo, PeerAuthenticationInfo } from '../model/policy-info.js';
import type { ServiceInfo } from '../model/service-info.js';
import type { WaypointInfo } from '../model/waypoint-info.js';
import type { WorkloadInfo } from '../model/workload-info.js';
import { authorizationPolicyIndex, deriveAuthorizationPolicies } from './authorization-policies.js';
import { endpointSliceWorkloads } from './endpoint-slice-workloads.js';
import { groupBy, groupByMany, indexBy } from './index-by.js';
import { compareStrings, labelsOf, nameOf, namespaceOf } from './meta.js';
import { derivePeerAuthentications, peerAuthenticationIndex } from './peer-authentications.js';
import { deriveServices } from './services.js';
import type { WaypointLookup } from './waypoint-binding.js';
import { deriveWaypoints } from './waypoints.js';
import { podIPIndex, podWorkload, type PodWorkloadContext } from './workloads.js';

export interface MeshState {
  options: ResolvedMeshOptions;
  /** By `<namespace>/<name>`. */
  waypoints: ReadonlyMap<string, WaypointInfo>;
  /** By `<namespace>/<hostname>`, in key order. */
  services: ReadonlyMap<string, ServiceInfo>;
  /** By uid, in uid order. */
  workloads: ReadonlyMap<string, WorkloadInfo>;
  /** In key order. */
  authorizationPolicies: readonly AuthorizationPolicyInfo[];
  /** In key order. */
  peerAuthentications: readonly PeerAuthenticationInfo[];
}

/** `<namespace>/<name>` of the pods an EndpointSlice lists (its endpoints' Pod targetRefs). */
export function slicePodKeys(slice: EndpointSlice): string[] {
  return (slice.endpoints ?? [])
    .filter((ep) => ep.targetRef?.kind === 'Pod' && ep.targetRef.name)
    .map((ep) => `${ep.targetRef!.namespace ?? namespaceOf(slice)}/${ep.targetRef!.name}`);
}

/**
 * What every workload and service reads besides its own objects: namespaces, waypoints (Gateways
 * and the pods labelled as their instances) and the policies. Changes to these are rare and make
 * the incremental derivation recompute everything.
 */
export interface MeshWide {
  namespaces: ReadonlyMap<string, Namespace>;
  waypoints: ReadonlyMap<string, WaypointInfo>;
  lookup: WaypointLookup;
  authorizationPolicies: readonly AuthorizationPolicyInfo[];
  peerAuthentications: readonly PeerAuthenticationInfo[];
  /** Selector-scoped and PeerAuthentication-derived policy names for a workload. */
  policiesFor(namespace: string, labels: Record<string, string>): string[];
}

export function deriveMeshWide(snapshot: ClusterSnapshot, options: ResolvedMeshOptions): MeshWide {
  const namespaces = indexBy(snapshot.namespaces, nameOf);
  const waypoints = deriveWaypoints(snapshot, options);
  const authorizationPolicies = deriveAuthorizationPolicies(
    snapshot.authorizationPolicies,
    options,
  );
  const peerAuthentications = derivePeerAuthentications(snapshot.peerAuthentications, options);
  const authzIndex = authorizationPolicyIndex(authorizationPolicies, options);
  const paIndex = peerAuthenticationIndex(peerAuthentications, options);
  return {
    namespaces,
    waypoints,
    lookup: { waypoints, namespaceLabels: (ns) => labelsOf(namespaces.get(ns)) },
    authorizationPolicies,
    peerAuthentications,
    policiesFor: (ns, labels) => [
      ...authzIndex.policiesFor(ns, labels),
      ...paIndex.policiesFor(ns, labels),
    ],
  };
}

/** Derives waypoints, services, policies and workloads, in that order (each needs the ones before). */
export function deriveMeshState(
  snapshot: ClusterSnapshot,
  meshOptions: MeshOptions = {},
): MeshState {
  const options = resolveMeshOptions(meshOptions);
  const wide = deriveMeshWide(snapshot, options);
  const services = deriveServices(snapshot, wide.namespaces, wide.lookup, options);
  const byIP = podIPIndex(snapshot.pods);
  const ctx: PodWorkloadContext = {
    options,
    waypoints: wide.lookup,
    selectingServices: groupBy(services.values(), (s) => (s.selector ? s.namespace : undefined)),
    services,
    slicesByPod: groupByMany(snapshot.endpointSlices, slicePodKeys),
    nodes: indexBy(snapshot.nodes, nameOf),
    policiesFor: wide.policiesFor,
    podsWithIP: (ip) => byIP.get(ip) ?? [],
  };
  const workloads: WorkloadInfo[] = [];
  for (const pod of snapshot.pods) {
    const w = podWorkload(pod, ctx);
    if (w) workloads.push(w);
  }
  for (const slice of snapshot.endpointSlices)
    workloads.push(...endpointSliceWorkloads(slice, services, options));
  workloads.sort((a, b) => compareStrings(a.uid, b.uid));
  return {
    options,
    waypoints: wide.waypoints,
    services,
    workloads: new Map(workloads.map((w) => [w.uid, w])),
    authorizationPolicies: wide.authorizationPolicies,
    peerAuthentications: wide.peerAuthentications,
  };
}
