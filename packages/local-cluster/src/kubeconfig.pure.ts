// Kubeconfig documents for the cluster's users (admin, controllers, nodes).
import { stringify } from 'yaml';

export interface KubeconfigInput {
  clusterName: string;
  server: string;
  caPem: string;
  user: string;
  certPem: string;
  keyPem: string;
}

export function renderKubeconfig(i: KubeconfigInput): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const context = `trellis-${i.clusterName}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: context, cluster: { server: i.server, 'certificate-authority-data': b64(i.caPem) } },
    ],
    users: [
      {
        name: i.user,
        user: { 'client-certificate-data': b64(i.certPem), 'client-key-data': b64(i.keyPem) },
      },
    ],
    contexts: [{ name: context, context: { cluster: context, user: i.user } }],
    'current-context': context,
  });
}
