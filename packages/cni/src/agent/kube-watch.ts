// The agent's view of the API: the pods scheduled to its node and every namespace (for their
// labels), kept by informers; handlers get the object after each change. Watches restart after
// errors with a delay.
import {
  CoreV1Api,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type V1Namespace,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from '@trellis/core';

export interface KubeWatchHandlers {
  pod(pod: V1Pod, deleted: boolean): void;
  namespace(ns: V1Namespace): void;
}

export interface KubeWatch {
  pods(): V1Pod[];
  pod(namespace: string, name: string): V1Pod | undefined;
  namespaceLabels(name: string): Record<string, string> | undefined;
  stop(): Promise<void>;
}

function keep<T extends KubernetesObject>(
  informer: Informer<T>,
  what: string,
  logger: Logger,
  stopped: () => boolean,
): void {
  informer.on('error', (err: unknown) => {
    if (stopped()) return;
    logger.warn({ err: String(err), what }, 'watch failed; restarting in 2s');
    setTimeout(
      () => void (stopped() ? undefined : informer.start().catch(() => undefined)),
      2000,
    ).unref();
  });
}

export async function startKubeWatch(
  kc: KubeConfig,
  nodeName: string,
  handlers: KubeWatchHandlers,
  logger: Logger,
): Promise<KubeWatch> {
  const core = kc.makeApiClient(CoreV1Api);
  const selector = `spec.nodeName=${nodeName}`;
  // The watch URL is the path plus its own parameters, so the field selector rides in the path.
  const pods = makeInformer<V1Pod>(
    kc,
    `/api/v1/pods?fieldSelector=${encodeURIComponent(selector)}`,
    () => core.listPodForAllNamespaces({ fieldSelector: selector }),
  );
  const namespaces = makeInformer<V1Namespace>(kc, '/api/v1/namespaces', () =>
    core.listNamespace(),
  );
  let stopped = false;
  keep(pods, 'pods', logger, () => stopped);
  keep(namespaces, 'namespaces', logger, () => stopped);
  // Namespaces first: a pod's enrollment needs its namespace's labels.
  await namespaces.start();
  await pods.start();
  for (const ev of ['add', 'update'] as const) {
    pods.on(ev, (p) => handlers.pod(p, false));
    namespaces.on(ev, (n) => handlers.namespace(n));
  }
  pods.on('delete', (p) => handlers.pod(p, true));
  return {
    pods: () => [...pods.list()],
    pod: (namespace, name) => pods.get(name, namespace),
    namespaceLabels: (name) => namespaces.get(name)?.metadata?.labels,
    async stop() {
      stopped = true;
      await Promise.all([pods.stop(), namespaces.stop()]);
    },
  };
}
