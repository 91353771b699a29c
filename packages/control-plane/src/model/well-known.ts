// Label and annotation names Trellis shares with Istio ambient (DESIGN.md §1).

export const LABEL_DATAPLANE_MODE = 'istio.io/dataplane-mode';
export const DATAPLANE_MODE_AMBIENT = 'ambient';
export const DATAPLANE_MODE_NONE = 'none';

export const LABEL_USE_WAYPOINT = 'istio.io/use-waypoint';
export const LABEL_USE_WAYPOINT_NAMESPACE = 'istio.io/use-waypoint-namespace';
export const USE_WAYPOINT_NONE = 'none';
export const LABEL_WAYPOINT_FOR = 'istio.io/waypoint-for';
export const LABEL_INGRESS_USE_WAYPOINT = 'istio.io/ingress-use-waypoint';
/** Set on the pods and Service of a Gateway by its deployment controller. */
export const LABEL_GATEWAY_NAME = 'gateway.networking.k8s.io/gateway-name';

export const ANNOTATION_REDIRECTION = 'ambient.istio.io/redirection';
export const REDIRECTION_ENABLED = 'enabled';
/** Present on pods that run an Istio sidecar; those are never captured by ztunnel. */
export const ANNOTATION_SIDECAR_STATUS = 'sidecar.istio.io/status';
/** `http` marks a workload that terminates HBONE itself (for example a waypoint). */
export const LABEL_TUNNEL = 'networking.istio.io/tunnel';

export const LABEL_CANONICAL_NAME = 'service.istio.io/canonical-name';
export const LABEL_CANONICAL_REVISION = 'service.istio.io/canonical-revision';
export const LABEL_WORKLOAD_NAME = 'service.istio.io/workload-name';

export const ANNOTATION_DRY_RUN = 'istio.io/dry-run';
export const ANNOTATION_TRAFFIC_DISTRIBUTION = 'networking.istio.io/traffic-distribution';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_REGION = 'topology.kubernetes.io/region';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_SUBZONE = 'topology.istio.io/subzone';

export const HBONE_PORT = 15008;
