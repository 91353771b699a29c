// Type URLs of the xDS resources the mesh serves. A resource's type URL is
// "type.googleapis.com/" + its full protobuf message name.

const PREFIX = 'type.googleapis.com/';

/** WDS: istio.workload.Address (a Workload or a Service), served to ztunnel. */
export const ADDRESS_TYPE_URL = `${PREFIX}istio.workload.Address`;
/** WDS: istio.security.Authorization (L4 policy), served to ztunnel. */
export const AUTHORIZATION_TYPE_URL = `${PREFIX}istio.security.Authorization`;
/** LDS: envoy.config.listener.v3.Listener. */
export const LISTENER_TYPE_URL = `${PREFIX}envoy.config.listener.v3.Listener`;
/** RDS: envoy.config.route.v3.RouteConfiguration. */
export const ROUTE_CONFIGURATION_TYPE_URL = `${PREFIX}envoy.config.route.v3.RouteConfiguration`;
/** CDS: envoy.config.cluster.v3.Cluster. */
export const CLUSTER_TYPE_URL = `${PREFIX}envoy.config.cluster.v3.Cluster`;
/** EDS: envoy.config.endpoint.v3.ClusterLoadAssignment. */
export const CLUSTER_LOAD_ASSIGNMENT_TYPE_URL = `${PREFIX}envoy.config.endpoint.v3.ClusterLoadAssignment`;

/** SDS: envoy.extensions.transport_sockets.tls.v3.Secret (listener certificates of ingress gateways). */
export const SECRET_TYPE_URL = `${PREFIX}envoy.extensions.transport_sockets.tls.v3.Secret`;

/** The type URL for a message type name, e.g. "istio.workload.Address". */
export function typeUrlOf(typeName: string): string {
  return PREFIX + typeName;
}
