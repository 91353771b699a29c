// A Kubernetes Service as the mesh sees it.
import type { WaypointBinding } from './waypoint-info.js';

/** Application protocols ztunnel distinguishes (istio.workload.AppProtocol). */
export type AppProtocolName = 'UNKNOWN' | 'HTTP11' | 'HTTP2' | 'GRPC' | 'TCP' | 'TLS';

export interface ServicePortInfo {
  name: string;
  port: number;
  /** Numeric target port; 0 when the target is a named container port (see targetPortName). */
  targetPort: number;
  targetPortName?: string;
  protocol: string;
  appProtocol: AppProtocolName;
}

export interface LoadBalancingInfo {
  routingPreference: ('NETWORK' | 'REGION' | 'ZONE' | 'SUBZONE' | 'NODE')[];
  mode: 'UNSPECIFIED' | 'STRICT' | 'FAILOVER';
  healthPolicy: 'ONLY_HEALTHY' | 'ALLOW_ALL';
}

export interface ServiceInfo {
  name: string;
  namespace: string;
  /** `<name>.<namespace>.svc.<domainSuffix>` */
  hostname: string;
  /** WDS resource name: `<namespace>/<hostname>`. */
  key: string;
  /** ClusterIPs (none for a headless service). */
  vips: { network: string; ip: string }[];
  ports: ServicePortInfo[];
  /** Pod selector; undefined for a service without one (endpoints come from EndpointSlices). */
  selector?: Record<string, string>;
  ipFamilies: 'AUTOMATIC' | 'IPV4_ONLY' | 'IPV6_ONLY' | 'DUAL';
  loadBalancing?: LoadBalancingInfo;
  waypoint?: WaypointBinding;
  /** Why a requested waypoint is not used (missing, not allowed, wrong traffic type). */
  waypointProblem?: string;
  ingressUseWaypoint: boolean;
  labels: Record<string, string>;
}
