// The derived mesh: every collection computed from one snapshot, with the indexes they share.
import type { ClusterSnapshot } from '../model/kube.js';
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
import { podWorkload } from './workloads.js';

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

/** Derives waypoints, services, policies and workloads, in that order (each needs the ones before). */
export function deriveMeshState(
  snapshot: ClusterSnapshot,
  meshOptions: MeshOptions = {},
): MeshState {
  const options = resolveMeshOptions(meshOptions);
  const namespaces = indexBy(snapshot.namespaces, nameOf);
  const waypoints = deriveWaypoints(snapshot, options);
  const lookup: WaypointLookup = {
    waypoints,
    namespaceLabels: (ns) => labelsOf(namespaces.get(ns)),
  };
  const services = deriveServices(snapshot, namespaces, lookup, options);
  const authorizationPolicies = deriveAuthorizationPolicies(
    snapshot.authorizationPolicies,
    options,
  );
  const peerAuthentications = derivePeerAuthentications(snapshot.peerAuthentications, options);
  const authzIndex = authorizationPolicyIndex(authorizationPolicies, options);
  const paIndex = peerAuthenticationIndex(peerAuthentications, options);

  const slicesByPod = groupByMany(snapshot.endpointSlices, (slice) =>
    (slice.endpoints ?? [])
      .filter((ep) => ep.targetRef?.kind === 'Pod' && ep.targetRef.name)
      .map((ep) => `${ep.targetRef!.namespace ?? namespaceOf(slice)}/${ep.targetRef!.name}`),
  );
  const ctx = {
    options,
    waypoints: lookup,
    selectingServices: groupBy(services.values(), (s) => (s.selector ? s.namespace : undefined)),
    services,
    slicesByPod,
    nodes: indexBy(snapshot.nodes, nameOf),
    policiesFor: (ns: string, labels: Record<string, string>) => [
      ...authzIndex.policiesFor(ns, labels),
      ...paIndex.policiesFor(ns, labels),
    ],
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
    waypoints,
    services,
    workloads: new Map(workloads.map((w) => [w.uid, w])),
    authorizationPolicies,
    peerAuthentications,
  };
}
