// Ambient enrollment: which pods ztunnel captures, and whether peers must reach them over HBONE.
import type { Pod } from '../model/kube.js';
import type { ResolvedMeshOptions } from '../model/options.js';
import {
  ANNOTATION_REDIRECTION,
  ANNOTATION_SIDECAR_STATUS,
  DATAPLANE_MODE_AMBIENT,
  DATAPLANE_MODE_NONE,
  LABEL_DATAPLANE_MODE,
  LABEL_TUNNEL,
  REDIRECTION_ENABLED,
} from '../model/well-known.js';
import { annotationsOf, labelsOf } from './meta.js';

/**
 * `istio.io/dataplane-mode=ambient` on the pod or its namespace enrolls it; `none` on the pod opts
 * out. Host-network pods and pods with an Istio sidecar are never enrolled.
 */
export function isAmbientEnrolled(pod: Pod, namespaceLabels: Record<string, string>): boolean {
  const podMode = labelsOf(pod)[LABEL_DATAPLANE_MODE];
  if (podMode === DATAPLANE_MODE_NONE) return false;
  if (
    podMode !== DATAPLANE_MODE_AMBIENT &&
    namespaceLabels[LABEL_DATAPLANE_MODE] !== DATAPLANE_MODE_AMBIENT
  )
    return false;
  if (pod.spec?.hostNetwork) return false;
  if (annotationsOf(pod)[ANNOTATION_SIDECAR_STATUS] !== undefined) return false;
  return true;
}

export interface TunnelChoice {
  tunnel: 'NONE' | 'HBONE';
  nativeTunnel: boolean;
}

/**
 * A workload that terminates HBONE itself (`networking.istio.io/tunnel: http`) is HBONE and native.
 * Otherwise HBONE when captured: enrolled by labels (default), or, with
 * `hboneRequiresRedirection`, only once the CNI agent annotated the pod as redirected.
 */
export function tunnelOf(pod: Pod, enrolled: boolean, options: ResolvedMeshOptions): TunnelChoice {
  if (labelsOf(pod)[LABEL_TUNNEL] === 'http') return { tunnel: 'HBONE', nativeTunnel: true };
  const redirected = annotationsOf(pod)[ANNOTATION_REDIRECTION] === REDIRECTION_ENABLED;
  const captured = options.hboneRequiresRedirection ? redirected : enrolled || redirected;
  return { tunnel: captured ? 'HBONE' : 'NONE', nativeTunnel: false };
}
