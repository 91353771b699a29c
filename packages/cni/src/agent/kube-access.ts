// What the agent does with the API besides watching: annotate pods, read one pod, and hand the
// plugin credentials (a node-bound token of its service account, see plugin-token.ts, else the
// agent's own: its service-account token in a cluster, or whatever the kubeconfig holds outside one).
import { readFileSync } from 'node:fs';
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
} from '@kubernetes/client-node';
import { REDIRECTION_ANNOTATION } from '../enrollment.pure.js';
import { pluginKubeconfig } from '../install/kubeconfig.pure.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function kubeAccess(kc: KubeConfig) {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    async annotate(namespace: string, name: string, value: string | null): Promise<void> {
      try {
        await core.patchNamespacedPod(
          {
            namespace,
            name,
            body: { metadata: { annotations: { [REDIRECTION_ANNOTATION]: value } } },
          },
          mergePatch,
        );
      } catch (err) {
        // A pod deleted meanwhile needs no annotation.
        if ((err as { code?: number }).code === 404) return;
        throw err;
      }
    },
    async readPod(namespace: string, name: string): Promise<V1Pod | undefined> {
      try {
        return await core.readNamespacedPod({ namespace, name });
      } catch (err) {
        if ((err as { code?: number }).code === 404) return undefined;
        throw err;
      }
    },
    /** A token of the service account bound to the Node (valid while the node exists). */
    async nodeBoundToken(
      account: { namespace: string; name: string },
      node: string,
      expirationSeconds: number,
    ): Promise<string> {
      const r = await core.createNamespacedServiceAccountToken({
        namespace: account.namespace,
        name: account.name,
        body: {
          spec: {
            audiences: [],
            expirationSeconds,
            boundObjectRef: { apiVersion: 'v1', kind: 'Node', name: node },
          },
        },
      });
      if (!r.status?.token) throw new Error('the TokenRequest answer has no token');
      return r.status.token;
    },
    /** The agent's own token, when it authenticates with one. */
    ownToken(): string | undefined {
      const user = kc.getCurrentUser();
      const tokenFile = (user?.authProvider as { config?: { tokenFile?: string } } | undefined)
        ?.config?.tokenFile;
      return user?.token ?? (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : undefined);
    },
    /** The plugin's kubeconfig text: the agent's cluster, `token` or the agent's own credentials. */
    pluginKubeconfig(token?: string): string {
      const cluster = kc.getCurrentCluster();
      const user = kc.getCurrentUser();
      if (!cluster) throw new Error('the kubeconfig names no current cluster');
      const read = (file?: string) => (file ? readFileSync(file, 'utf8') : undefined);
      const unb64 = (s?: string) => (s ? Buffer.from(s, 'base64').toString('utf8') : undefined);
      const caPem = unb64(cluster.caData) ?? read(cluster.caFile);
      if (!caPem) throw new Error(`no CA for ${cluster.server} in the agent's kubeconfig`);
      return pluginKubeconfig({
        server: cluster.server,
        caPem,
        token: token ?? this.ownToken(),
        certPem: unb64(user?.certData) ?? read(user?.certFile),
        keyPem: unb64(user?.keyData) ?? read(user?.keyFile),
      });
    },
  };
}
