// The kubeconfig the plugin uses to read pods and namespaces (pure): the agent's own API server,
// CA and credentials (its service-account token, or a client certificate outside a cluster), as
// JSON (also valid YAML for kubectl).

export interface PluginCredentials {
  server: string;
  caPem: string;
  token?: string | undefined;
  certPem?: string | undefined;
  keyPem?: string | undefined;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function pluginKubeconfig(c: PluginCredentials): string {
  if (!c.token && !(c.certPem && c.keyPem))
    throw new Error('the plugin kubeconfig needs a token or a client certificate and key');
  const user: Record<string, string> = c.token
    ? { token: c.token }
    : { 'client-certificate-data': b64(c.certPem!), 'client-key-data': b64(c.keyPem!) };
  return (
    JSON.stringify(
      {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'local',
            cluster: { server: c.server, 'certificate-authority-data': b64(c.caPem) },
          },
        ],
        users: [{ name: 'trellis-cni', user }],
        contexts: [{ name: 'trellis-cni', context: { cluster: 'local', user: 'trellis-cni' } }],
        'current-context': 'trellis-cni',
      },
      null,
      2,
    ) + '\n'
  );
}
