// Cluster mode's node index: a pod informer, indexed by node, telling which service accounts
// have a running (or starting) pod on each node. Tested against a real apiserver in cluster-mode.test.
import { CoreV1Api, makeInformer, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from '@trellis/core';
import type { NodeIndex, ServiceAccountRef } from '../caller.js';

/** The service account a pod runs as, if it is placed on a node and not finished (pure). */
export function podPlacement(pod: V1Pod): { node: string; account: ServiceAccountRef } | undefined {
  const node = pod.spec?.nodeName;
  const namespace = pod.metadata?.namespace;
  const phase = pod.status?.phase;
  if (!node || !namespace || phase === 'Succeeded' || phase === 'Failed') return undefined;
  return {
    node,
    account: { namespace, serviceAccount: pod.spec?.serviceAccountName || 'default' },
  };
}

/** Builds the node -> service accounts view of a list of pods (pure). */
export function indexPodsByNode(pods: readonly V1Pod[]): Map<string, ServiceAccountRef[]> {
  const byNode = new Map<string, ServiceAccountRef[]>();
  for (const pod of pods) {
    const p = podPlacement(pod);
    if (!p) continue;
    const list = byNode.get(p.node) ?? [];
    if (
      !list.some(
        (a) => a.namespace === p.account.namespace && a.serviceAccount === p.account.serviceAccount,
      )
    )
      list.push(p.account);
    byNode.set(p.node, list);
  }
  return byNode;
}

export interface PodIndex extends NodeIndex {
  stop(): Promise<void>;
}

export async function startPodIndex(kubeConfig: KubeConfig, logger: Logger): Promise<PodIndex> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1Pod>(kubeConfig, '/api/v1/pods', () =>
    core.listPodForAllNamespaces(),
  );
  let view = new Map<string, ServiceAccountRef[]>();
  let dirty = true;
  const invalidate = () => (dirty = true);
  informer.on('add', invalidate);
  informer.on('update', invalidate);
  informer.on('delete', invalidate);
  let stopped = false;
  informer.on('error', (err: unknown) => {
    if (stopped) return; // stop() ends the watch: do not restart it
    logger.warn({ err: String(err) }, 'pod watch failed; restarting in 5s');
    setTimeout(
      () => void (stopped ? undefined : informer.start().catch(() => undefined)),
      5000,
    ).unref();
  });
  await informer.start();
  return {
    workloadsOn(node) {
      if (dirty) {
        view = indexPodsByNode(informer.list());
        dirty = false;
      }
      return view.get(node) ?? [];
    },
    stop: async () => {
      stopped = true;
      await informer.stop();
    },
  };
}
