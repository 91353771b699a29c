// Mesh-wide settings the derivations depend on. Apps load them once (core settings) and pass them in.

export interface MeshOptions {
  /** Cluster id, first segment of pod workload names (`<cluster>//Pod/<ns>/<name>`). Default `Kubernetes`. */
  clusterId?: string;
  /** SPIFFE trust domain. Default `cluster.local`. */
  trustDomain?: string;
  /** DNS suffix of service hostnames (`<name>.<ns>.svc.<suffix>`). Default `cluster.local`. */
  domainSuffix?: string;
  /** Namespace whose policies apply mesh-wide. Default `istio-system`. */
  rootNamespace?: string;
  /** Network name given to workloads and service VIPs. Default empty (the default network). */
  network?: string;
  /**
   * When true, a pod is sent with tunnel protocol HBONE only once the CNI agent has annotated it
   * `ambient.istio.io/redirection: enabled` (Istio's rule; use it with a running CNI). When false
   * (default), enrollment labels alone decide, which suits a config directory or offline translation.
   */
  hboneRequiresRedirection?: boolean;
  /** Gateway classes that are waypoints even before their status has an address. */
  waypointClasses?: readonly string[];
  /** Gateway classes of ingress gateways this control plane deploys and programs (never waypoints). */
  gatewayClasses?: readonly string[];
}

export type ResolvedMeshOptions = Readonly<Required<MeshOptions>>;

export const DEFAULT_MESH_OPTIONS: ResolvedMeshOptions = Object.freeze({
  clusterId: 'Kubernetes',
  trustDomain: 'cluster.local',
  domainSuffix: 'cluster.local',
  rootNamespace: 'istio-system',
  network: '',
  hboneRequiresRedirection: false,
  waypointClasses: Object.freeze(['trellis-waypoint', 'istio-waypoint']),
  gatewayClasses: Object.freeze(['trellis', 'istio']),
});

export function resolveMeshOptions(options: MeshOptions = {}): ResolvedMeshOptions {
  const resolved: Required<MeshOptions> = { ...DEFAULT_MESH_OPTIONS };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (resolved as Record<string, unknown>)[key] = value;
  }
  return Object.freeze(resolved);
}
