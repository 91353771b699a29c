// What the cluster under test can do, probed once by the runner. A test that needs a missing
// capability is skipped with what is missing, never passed; the runner fails the run when one is
// missing (every capability exists on a local cluster with profile default).
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

export const CAPABILITIES: readonly Capability[] = ['exec', 'dns', 'cni', 'ztunnel'];

/** What is missing when a capability is, for skip reasons and the runner's verdict. */
export const MISSING: Record<Capability, string> = {
  exec: 'kubectl exec into the client pod failed',
  dns: 'the cluster has no DNS (Service kube-system/kube-dns)',
  cni: 'the CNI agent (DaemonSet trellis-cni-node) is not Ready on every node',
  ztunnel: 'ztunnel (DaemonSet ztunnel) is not Ready on every node',
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
