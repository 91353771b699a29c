// What the cluster under test can do, probed once by the runner. A scenario that needs a missing
// capability is reported as skipped with the reason (the work it waits for), never as passed.
import type { Kubectl } from '@trellis/local-cluster';

export type Capability =
  /** kubectl exec into a pod works (the suites run curl in the client pods). */
  | 'exec'
  /** Cluster DNS (Service kube-dns in kube-system) answers: ztunnel reaches istiod.<ns>.svc. */
  | 'dns'
  /** The CNI agent runs and is Ready on every node. */
  | 'cni'
  /** ztunnel is Ready on every node. */
  | 'ztunnel';

/** The work each capability waits for, for skip reasons. */
export const WAITS_FOR: Record<Capability, string> = {
  exec: 'kubectl exec on the local cluster (issue #18)',
  dns: 'cluster DNS on the local cluster (issue #18)',
  cni: 'the CNI plugin and node agent (issue #12)',
  ztunnel: 'ztunnel Ready on every node (needs cluster DNS, issue #18)',
};

export function probeCapabilities(
  kubectl: Kubectl,
  probePod?: { namespace: string; name: string },
): Capability[] {
  const caps: Capability[] = [];
  if (probePod) {
    try {
      kubectl.run(['exec', '-n', probePod.namespace, probePod.name, '--', 'true']);
      caps.push('exec');
    } catch {
      // not supported (yet)
    }
  }
  if (kubectl.tryGet('service', '-n', 'kube-system', 'kube-dns')) caps.push('dns');
  const ready = (name: string) => {
    const ds = kubectl.tryGet('daemonset', '-n', 'trellis-system', name);
    const s = ds?.status;
    return (
      s !== undefined && s.desiredNumberScheduled > 0 && s.numberReady === s.desiredNumberScheduled
    );
  };
  if (ready('trellis-cni-node')) caps.push('cni');
  if (ready('ztunnel')) caps.push('ztunnel');
  return caps;
}
