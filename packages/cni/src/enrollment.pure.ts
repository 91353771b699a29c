// Who is in the ambient mesh (pure): Istio's enrollment labels and annotations, decided the same
// way by the CNI plugin (from the API at ADD) and by the node agent (from its watches).

export const DATAPLANE_MODE_LABEL = 'istio.io/dataplane-mode';
export const DATAPLANE_MODE_AMBIENT = 'ambient';
export const DATAPLANE_MODE_NONE = 'none';
/** Set on pods whose redirection is in place ("enabled"). */
export const REDIRECTION_ANNOTATION = 'ambient.istio.io/redirection';
/** "false" turns DNS capture off for one pod. */
export const DNS_CAPTURE_ANNOTATION = 'ambient.istio.io/dns-capture';
/** Pods with an Istio sidecar are never captured by ztunnel too. */
export const SIDECAR_STATUS_ANNOTATION = 'sidecar.istio.io/status';

export interface PodFacts {
  namespace: string;
  name: string;
  labels?: Readonly<Record<string, string>> | undefined;
  annotations?: Readonly<Record<string, string>> | undefined;
  hostNetwork?: boolean | undefined;
}

export interface EnrollmentPolicy {
  /** Namespaces never enrolled, whatever their labels. */
  excludeNamespaces: readonly string[];
  /** The mesh's own namespace; ztunnel pods (label app=ztunnel) there are never enrolled. */
  systemNamespace: string;
}

export type Enrollment =
  { enrolled: true; by: 'pod' | 'namespace' } | { enrolled: false; why: string };

export function isZtunnelPod(pod: PodFacts, systemNamespace: string): boolean {
  return pod.namespace === systemNamespace && pod.labels?.app === 'ztunnel';
}

/** Whether the pod belongs in the mesh, given its namespace's labels. */
export function podEnrollment(
  pod: PodFacts,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
  policy: EnrollmentPolicy,
): Enrollment {
  if (pod.hostNetwork) return { enrolled: false, why: 'host network pod' };
  if (isZtunnelPod(pod, policy.systemNamespace)) return { enrolled: false, why: 'ztunnel itself' };
  if (policy.excludeNamespaces.includes(pod.namespace))
    return { enrolled: false, why: `namespace ${pod.namespace} is excluded` };
  if (pod.annotations?.[SIDECAR_STATUS_ANNOTATION] !== undefined)
    return { enrolled: false, why: 'pod has an Istio sidecar' };
  const podMode = pod.labels?.[DATAPLANE_MODE_LABEL];
  if (podMode === DATAPLANE_MODE_NONE)
    return { enrolled: false, why: `pod label ${DATAPLANE_MODE_LABEL}=none` };
  if (podMode === DATAPLANE_MODE_AMBIENT) return { enrolled: true, by: 'pod' };
  if (namespaceLabels?.[DATAPLANE_MODE_LABEL] === DATAPLANE_MODE_AMBIENT)
    return { enrolled: true, by: 'namespace' };
  return {
    enrolled: false,
    why: `neither the pod nor its namespace is labelled ${DATAPLANE_MODE_LABEL}=ambient`,
  };
}

/** DNS capture for a pod: on unless the pod says `ambient.istio.io/dns-capture: "false"`. */
export function dnsCaptureEnabled(
  annotations: Readonly<Record<string, string>> | undefined,
  nodeDefault: boolean,
): boolean {
  const v = annotations?.[DNS_CAPTURE_ANNOTATION];
  if (v === 'false') return false;
  if (v === 'true') return true;
  return nodeDefault;
}
