// A waypoint (a Gateway that proxies L7 for services or workloads) and a binding to one.
import type { AllowedNamespaces } from './gateway-api.js';

/** Where ztunnel sends traffic for a waypoint: the waypoint Service's hostname, or a fixed IP. */
export type GatewayAddressInfo =
  | { kind: 'hostname'; namespace: string; hostname: string; hbonePort: number }
  | { kind: 'ip'; network: string; ip: string; hbonePort: number };

/** Which traffic a waypoint accepts (`istio.io/waypoint-for`). */
export type WaypointTrafficType = 'service' | 'workload' | 'all' | 'none';

export interface WaypointInfo {
  name: string;
  namespace: string;
  /** `<namespace>/<name>` */
  key: string;
  gatewayClassName: string;
  address: GatewayAddressInfo;
  trafficType: WaypointTrafficType;
  /**
   * The HBONE listener's `allowedRoutes.namespaces`: which namespaces' services, workloads and
   * routes may use this waypoint (see `allowsNamespace`).
   */
  allowedNamespaces: AllowedNamespaces;
  /** Service accounts of the waypoint's own pods, sorted. */
  serviceAccounts: string[];
}

/** The waypoint a service or workload sends its traffic through. */
export interface WaypointBinding {
  /** `<namespace>/<name>` of the waypoint Gateway. */
  waypoint: string;
  address: GatewayAddressInfo;
}
