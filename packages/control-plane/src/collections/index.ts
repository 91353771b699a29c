// Pure derivations from a ClusterSnapshot to the mesh model.
export {
  deriveMeshState,
  deriveMeshWide,
  slicePodKeys,
  type MeshState,
  type MeshWide,
} from './mesh-state.js';
export { createMeshStateDeriver, type MeshStateDeriver } from './incremental-mesh-state.js';
export { sameValue } from './same-value.js';
export { deriveWaypoints, waypointFromGateway } from './waypoints.js';
export {
  resolveServiceWaypoint,
  resolveWorkloadWaypoint,
  type WaypointLookup,
  type WaypointResolution,
} from './waypoint-binding.js';
export { deriveServices, serviceHostname, serviceInfo, serviceKey } from './services.js';
export { localityOf, podWorkload, podWorkloadUid, type PodWorkloadContext } from './workloads.js';
export { endpointSliceWorkloads } from './endpoint-slice-workloads.js';
export { isAmbientEnrolled, tunnelOf } from './enrollment.js';
export {
  authorizationPolicyIndex,
  authorizationPolicyInfo,
  deriveAuthorizationPolicies,
  type AuthorizationPolicyIndex,
} from './authorization-policies.js';
export {
  CONVERTED_PEER_AUTHENTICATION_PREFIX,
  STATIC_STRICT_POLICY_NAME,
  convertedPeerAuthenticationName,
  derivePeerAuthentications,
  needsConvertedPolicy,
  peerAuthenticationIndex,
  portPlan,
  type PeerAuthenticationIndex,
  type PortPlan,
} from './peer-authentications.js';
export { matchesSelector, isSubset } from './selector.js';
export { ipBytes, isIP } from './ip-text.js';
