// Cluster mode: publishes the root certificate as ConfigMap `istio-ca-root-cert` (key root-cert.pem)
// in every namespace and puts it back when it is deleted or edited.
// The reconcile decision is pure (rootConfigMapAction); the watcher runs against a real apiserver
// in cluster-mode.test.
import {
  CoreV1Api,
  makeInformer,
  type KubeConfig,
  type V1ConfigMap,
  type V1Namespace,
} from '@kubernetes/client-node';
import type { Logger } from '@trellis/core';

export const ROOT_CONFIGMAP = 'istio-ca-root-cert';
export const ROOT_CONFIGMAP_KEY = 'root-cert.pem';
const LABEL = 'istio.io/config';

export function rootConfigMap(namespace: string, rootPem: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: ROOT_CONFIGMAP, namespace, labels: { [LABEL]: 'true' } },
    data: { [ROOT_CONFIGMAP_KEY]: rootPem },
  };
}

/** What to do for one namespace given its current ConfigMap (pure). */
export function rootConfigMapAction(
  existing: V1ConfigMap | undefined,
  rootPem: string,
): 'create' | 'replace' | 'none' {
  if (!existing) return 'create';
  const current = existing.data?.[ROOT_CONFIGMAP_KEY];
  return current === rootPem && existing.metadata?.labels?.[LABEL] === 'true' ? 'none' : 'replace';
}

export interface RootPublisher {
  stop(): Promise<void>;
}

export async function publishRoot(
  kubeConfig: KubeConfig,
  rootPem: string,
  logger: Logger,
): Promise<RootPublisher> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const reconcile = async (namespace: string) => {
    try {
      const existing = await core
        .readNamespacedConfigMap({ name: ROOT_CONFIGMAP, namespace })
        .catch((err: { code?: number }) => {
          if (err.code === 404) return undefined;
          throw err;
        });
      const action = rootConfigMapAction(existing, rootPem);
      if (action === 'create')
        await core.createNamespacedConfigMap({
          namespace,
          body: rootConfigMap(namespace, rootPem),
        });
      if (action === 'replace')
        await core.replaceNamespacedConfigMap({
          name: ROOT_CONFIGMAP,
          namespace,
          body: rootConfigMap(namespace, rootPem),
        });
      if (action !== 'none')
        logger.info({ namespace, action }, 'published root certificate ConfigMap');
    } catch (err) {
      logger.warn(
        { namespace, err: (err as Error).message },
        'could not publish root certificate ConfigMap',
      );
    }
  };
  const namespaces = makeInformer<V1Namespace>(kubeConfig, '/api/v1/namespaces', () =>
    core.listNamespace(),
  );
  const configMaps = makeInformer<V1ConfigMap>(
    kubeConfig,
    '/api/v1/configmaps',
    () => core.listConfigMapForAllNamespaces({ labelSelector: `${LABEL}=true` }),
    `${LABEL}=true`,
  );
  const onNamespace = (ns: V1Namespace) => {
    if (ns.metadata?.name && ns.status?.phase !== 'Terminating') void reconcile(ns.metadata.name);
  };
  const onConfigMap = (cm: V1ConfigMap) => {
    if (cm.metadata?.name === ROOT_CONFIGMAP && cm.metadata.namespace)
      void reconcile(cm.metadata.namespace);
  };
  namespaces.on('add', onNamespace);
  namespaces.on('update', onNamespace);
  configMaps.on('update', onConfigMap);
  configMaps.on('delete', onConfigMap);
  let stopped = false;
  for (const inf of [namespaces, configMaps]) {
    inf.on('error', (err: unknown) => {
      if (stopped) return; // stop() aborts the watches: that is not a failure
      logger.warn({ err: String(err) }, 'watch failed; restarting in 5s');
      setTimeout(
        () => void (stopped ? undefined : inf.start().catch(() => undefined)),
        5000,
      ).unref();
    });
  }
  await Promise.all([namespaces.start(), configMaps.start()]);
  return {
    stop: async () => {
      stopped = true;
      await Promise.all([namespaces.stop(), configMaps.stop()]);
    },
  };
}
