// An addressable unit of compute: a pod, or an endpoint of a Service that is not a pod.
import type { WaypointBinding } from './waypoint-info.js';

export interface WorkloadPort {
  servicePort: number;
  targetPort: number;
}

export interface WorkloadInfo {
  /** WDS resource name and Workload.uid: `<cluster>//Pod/<ns>/<name>` for pods. */
  uid: string;
  source: 'Pod' | 'EndpointSlice';
  name: string;
  namespace: string;
  /** IP addresses as text. */
  addresses: string[];
  network: string;
  clusterId: string;
  trustDomain: string;
  serviceAccount: string;
  /** `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`; empty when unknown. */
  identity: string;
  node: string;
  /** Enrolled in ambient by labels (namespace or pod `istio.io/dataplane-mode=ambient`). */
  ambient: boolean;
  /** HBONE when ztunnel tunnels traffic to it, NONE for plain TCP. */
  tunnel: 'NONE' | 'HBONE';
  /** The workload terminates HBONE itself (label `networking.istio.io/tunnel: http`). */
  nativeTunnel: boolean;
  hostNetwork: boolean;
  healthy: boolean;
  workloadName: string;
  canonicalName: string;
  canonicalRevision: string;
  /** Services this workload backs, keyed by `<namespace>/<hostname>`, in key order. */
  services: Record<string, WorkloadPort[]>;
  waypoint?: WaypointBinding;
  waypointProblem?: string;
  /** IPs left out (not an IP address) or shared with other pods, for notes and logs. */
  addressProblem?: string;
  /** Names (`<ns>/<name>`) of the selector-scoped policies that apply to it. */
  authorizationPolicies: string[];
  locality?: { region: string; zone: string; subzone: string };
  labels: Record<string, string>;
}
