// Pure builders for a mesh on a NetnsCluster: the CA's static tokens and ztunnel's --local-config
// (JSON, which is YAML) describing every pod of the cluster.
import type { NetnsCluster, Pod } from './netns-cluster.js';

/** ztunnel's default namespace, whose ztunnel service account the CA trusts by default. */
export const ZTUNNEL_NAMESPACE = 'istio-system';
export const ZTUNNEL_SERVICE_ACCOUNT = 'ztunnel';

export interface StaticToken {
  token: string;
  namespace: string;
  serviceAccount: string;
  node?: string;
}

/** The token a node's ztunnel presents (identity istio-system/ztunnel on that node). */
export const ztunnelToken = (nodeName: string, runId: string) => `zt-${runId}-${nodeName}`;

/** One ztunnel token per node, and every pod's namespace/serviceAccount on its node (for impersonation). */
export function meshTokens(cluster: NetnsCluster): StaticToken[] {
  const tokens: StaticToken[] = [];
  for (const node of cluster.nodes) {
    tokens.push({
      token: ztunnelToken(node.name, cluster.runId),
      namespace: ZTUNNEL_NAMESPACE,
      serviceAccount: ZTUNNEL_SERVICE_ACCOUNT,
      node: node.name,
    });
    for (const pod of node.pods)
      tokens.push({
        token: `pod-${cluster.runId}-${pod.namespace}-${pod.name}`,
        namespace: pod.namespace,
        serviceAccount: pod.serviceAccount,
        node: node.name,
      });
  }
  return tokens;
}

/** An L4 policy in ztunnel's local-config form (see packages/ztunnel README). */
export interface LocalPolicy {
  name: string;
  namespace: string;
  scope?: 'Global' | 'Namespace' | 'WorkloadSelector';
  action: 'Allow' | 'Deny';
  rules: Record<string, unknown>[][][];
}

/** Mesh pods (with redirection) are HBONE workloads; the others are plain TCP workloads. */
export function podWorkload(pod: Pod): Record<string, unknown> {
  return {
    uid: pod.uid,
    name: pod.name,
    namespace: pod.namespace,
    serviceAccount: pod.serviceAccount,
    workloadIps: [pod.ip],
    node: pod.node.name,
    protocol: pod.redirected ? 'HBONE' : 'TCP',
    workloadName: pod.name,
    canonicalName: pod.name,
  };
}

export function meshLocalConfig(cluster: NetnsCluster, policies: LocalPolicy[] = []): string {
  const workloads = cluster.nodes.flatMap((n) => n.pods.map(podWorkload));
  return `${JSON.stringify({ workloads, policies }, null, 2)}\n`;
}
