// The typed model the state store holds: plain, immutable, JSON-serialisable values converted from
// the istio.workload.Address and istio.security.Authorization messages (see convert/). Proxies,
// the RBAC engine and the admin dump work with these, never with protobuf messages. IP addresses
// are canonical strings (see net/ip.ts).
import type { Cidr } from '@trellis/core';

export type { Cidr } from '@trellis/core';

/** An IP address within a network ('' is the default network). */
export interface NetworkAddress {
  readonly network: string;
  readonly address: string;
}

/** A range of VIPs, for services whose addresses carry a prefix shorter than a single host. */
export interface NetworkCidr extends Cidr {
  readonly network: string;
}

/** Where a waypoint or network gateway is found: a service by name, or a fixed address. */
export type GatewayDestination =
  | { readonly kind: 'hostname'; readonly namespace: string; readonly hostname: string }
  | { readonly kind: 'address'; readonly network: string; readonly address: string };

export interface GatewayAddress {
  readonly destination: GatewayDestination;
  /** HBONE port; 15008 when the message left it unset. */
  readonly hbonePort: number;
}

/** A service port and the port it maps to on a workload. */
export interface PortMapping {
  readonly servicePort: number;
  /** 0 on a service means the port is named and only each endpoint knows the number. */
  readonly targetPort: number;
}

export type AppProtocol = 'UNKNOWN' | 'HTTP11' | 'HTTP2' | 'GRPC' | 'TCP' | 'TLS';

export interface ServicePort extends PortMapping {
  readonly appProtocol: AppProtocol;
}

/** The tunnel a workload accepts inbound: HBONE when it is in the ambient mesh. */
export type InboundProtocol = 'HBONE' | 'TCP';
export type HealthStatus = 'Healthy' | 'Unhealthy';
export type NetworkMode = 'Standard' | 'HostNetwork';
export type WorkloadType = 'deployment' | 'cronjob' | 'pod' | 'job';

export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subzone: string;
}

export interface ApplicationTunnel {
  readonly protocol: 'NONE' | 'PROXY';
  /** Port to deliver to after the last hop, if set. */
  readonly port?: number;
}

export interface Workload {
  /** Primary key, e.g. "Kubernetes//Pod/default/web-1". */
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  /** Canonical IPs; empty for a workload reached by hostname or only through a network gateway. */
  readonly addresses: readonly string[];
  readonly hostname: string;
  readonly network: string;
  readonly protocol: InboundProtocol;
  /** Identity parts; defaults applied: trust domain "cluster.local", service account "default". */
  readonly trustDomain: string;
  readonly serviceAccount: string;
  readonly waypoint?: GatewayAddress;
  readonly networkGateway?: GatewayAddress;
  readonly node: string;
  readonly canonicalName: string;
  readonly canonicalRevision: string;
  readonly workloadType: WorkloadType;
  readonly workloadName: string;
  readonly nativeTunnel: boolean;
  readonly applicationTunnel?: ApplicationTunnel;
  /** Services this workload backs: "<namespace>/<hostname>" -> its port mappings. */
  readonly services: Readonly<Record<string, readonly PortMapping[]>>;
  /** Keys ("<namespace>/<name>") of the WORKLOAD_SELECTOR policies that select this workload. */
  readonly authorizationPolicies: readonly string[];
  readonly status: HealthStatus;
  /** Defaults to "Kubernetes". */
  readonly clusterId: string;
  readonly locality: Locality;
  readonly networkMode: NetworkMode;
  /** Load-balancing weight; 1 when unset. */
  readonly capacity: number;
}

export type LoadBalancingScope = 'REGION' | 'ZONE' | 'SUBZONE' | 'NODE' | 'CLUSTER' | 'NETWORK';
export type LoadBalancingMode = 'Standard' | 'Strict' | 'Failover' | 'Passthrough';

export interface LoadBalancing {
  readonly routingPreference: readonly LoadBalancingScope[];
  readonly mode: LoadBalancingMode;
  readonly healthPolicy: 'OnlyHealthy' | 'AllowAll';
}

export interface WeightedWaypoint {
  readonly destination: GatewayAddress;
  readonly weight: number;
}

export interface Service {
  readonly name: string;
  readonly namespace: string;
  readonly hostname: string;
  readonly vips: readonly NetworkAddress[];
  readonly cidrVips: readonly NetworkCidr[];
  readonly ports: readonly ServicePort[];
  readonly subjectAltNames: readonly string[];
  readonly waypoint?: GatewayAddress;
  readonly weightedWaypoints: readonly WeightedWaypoint[];
  readonly loadBalancing?: LoadBalancing;
  readonly ipFamilies: 'Automatic' | 'IPv4Only' | 'IPv6Only' | 'Dual';
  readonly canonical: boolean;
  readonly ingressUseWaypoint: boolean;
  readonly visibility: 'Public' | 'Namespace';
}

/** The store key of a service, and the WDS resource name: "<namespace>/<hostname>". */
export function serviceKey(s: { readonly namespace: string; readonly hostname: string }): string {
  return `${s.namespace}/${s.hostname}`;
}

export type StringMatch =
  | { readonly exact: string }
  | { readonly prefix: string }
  | { readonly suffix: string }
  | { readonly presence: true };

export interface ServiceAccountMatch {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/**
 * Conditions on a connection. Every non-empty field must hold; within a field the values are
 * alternatives; a not* field holds when none of its values matches. A match with every field
 * empty never matches.
 */
export interface Match {
  readonly namespaces: readonly StringMatch[];
  readonly notNamespaces: readonly StringMatch[];
  readonly serviceAccounts: readonly ServiceAccountMatch[];
  readonly notServiceAccounts: readonly ServiceAccountMatch[];
  /** Against the peer identity without "spiffe://", e.g. "cluster.local/ns/default/sa/web". */
  readonly principals: readonly StringMatch[];
  readonly notPrincipals: readonly StringMatch[];
  readonly sourceIps: readonly Cidr[];
  readonly notSourceIps: readonly Cidr[];
  readonly destinationIps: readonly Cidr[];
  readonly notDestinationIps: readonly Cidr[];
  readonly destinationPorts: readonly number[];
  readonly notDestinationPorts: readonly number[];
}

export type PolicyScope = 'Global' | 'Namespace' | 'WorkloadSelector';
export type PolicyAction = 'Allow' | 'Deny';

/** One L4 authorization policy. */
export interface Authorization {
  readonly name: string;
  readonly namespace: string;
  readonly scope: PolicyScope;
  readonly action: PolicyAction;
  /**
   * rules[r][c][m]: the policy matches when ANY rule matches; a rule when ALL its clauses match;
   * a clause when ANY of its matches matches (an empty clause list or clause matches). No rules:
   * the policy never matches.
   */
  readonly rules: readonly (readonly (readonly Match[])[])[];
  readonly dryRun: boolean;
}

/** The store key of a policy, and the WDS resource name: "<namespace>/<name>". */
export function policyKey(p: { readonly namespace: string; readonly name: string }): string {
  return `${p.namespace}/${p.name}`;
}

/** The SPIFFE ID of a workload: spiffe://<trust domain>/ns/<namespace>/sa/<service account>. */
export function workloadSpiffeId(w: Workload): string {
  return `spiffe://${w.trustDomain}/ns/${w.namespace}/sa/${w.serviceAccount}`;
}
