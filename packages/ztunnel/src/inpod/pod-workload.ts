// Which WDS workload is the pod ztunnel got over ZDS. ZDS names a pod by its Kubernetes uid, WDS
// keys pod workloads "<cluster>//Pod/<ns>/<name>": so, as upstream ztunnel does, a workload whose
// uid is the pod's (local config files use the Kubernetes uid) wins, else the pod workload with the
// pod's name, namespace and service account from ZDS workload_info. Pure.
import type { Workload } from '../state/model.js';
import type { PodInfo } from './zds-messages.js';

/** Whether `w` is the workload of `pod`, and how well: 2 by uid, 1 by name, 0 not. */
export function podMatch(w: Workload, pod: PodInfo): 0 | 1 | 2 {
  if (w.uid === pod.uid) return 2;
  const sameName =
    w.name === pod.name &&
    w.namespace === pod.namespace &&
    (pod.serviceAccount === '' || w.serviceAccount === pod.serviceAccount) &&
    w.uid.includes('//Pod/');
  return sameName ? 1 : 0;
}

/** The pod's workload among `workloads` (the best match; undefined when none matches). */
export function findPodWorkload(workloads: Iterable<Workload>, pod: PodInfo): Workload | undefined {
  let best: Workload | undefined;
  let rank = 0;
  for (const w of workloads) {
    const r = podMatch(w, pod);
    if (r > rank) [best, rank] = [w, r];
    if (rank === 2) break;
  }
  return best;
}
