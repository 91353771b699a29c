// CA files in the Secret `istio-ca-secret` of the CA's namespace (cluster mode).
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { CA_FILES, type CaFileName, type CaStore } from './ca-files.js';

export const CA_SECRET_NAME = 'istio-ca-secret';

export function secretStore(
  kubeConfig: KubeConfig,
  namespace: string,
  name = CA_SECRET_NAME,
): CaStore {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return {
    location: `Secret ${namespace}/${name}`,
    async load() {
      let data: Record<string, string> | undefined;
      try {
        data = (await core.readNamespacedSecret({ name, namespace })).data;
      } catch (err) {
        if ((err as { code?: number }).code === 404) return {};
        throw err;
      }
      const out: Partial<Record<CaFileName, string>> = {};
      for (const f of CA_FILES)
        if (data?.[f]) out[f] = Buffer.from(data[f], 'base64').toString('utf8');
      return out;
    },
    async save(files) {
      const data = Object.fromEntries(
        CA_FILES.map((f) => [f, Buffer.from(files[f]).toString('base64')]),
      );
      // Create only: if another replica won the race, the create fails and the caller reloads.
      await core.createNamespacedSecret({
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name, namespace },
          type: 'istio.io/ca-root',
          data,
        },
      });
    },
  };
}
