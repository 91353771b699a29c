// API objects `cluster create` adds to a fresh cluster before the nodes join.
import { KUBELET_CLIENT_USER } from './pki-specs.pure.js';

/** Lets the apiserver use the kubelet API (logs, exec, attach, port-forward) on every node. */
export function kubeletApiAdminBinding(): object {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'trellis:kube-apiserver-kubelet-client' },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'system:kubelet-api-admin',
    },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: KUBELET_CLIENT_USER }],
  };
}
