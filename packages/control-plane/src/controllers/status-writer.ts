// Writes the desired statuses (desired-status.ts) with JSON merge patches on the status
// subresource. A status equal to the object's current one is skipped, and so is a status we just
// wrote while the informer has not delivered the updated object yet. I/O only.
import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { Logger } from '@trellis/core';
import { kubeErrorMessage } from '../ingest/kube-errors.js';
import type { StatusWrite } from './desired-status.js';

export interface StatusWriter {
  /** Writes what differs; resolves with the number of failed writes. */
  write(writes: readonly StatusWrite[]): Promise<number>;
}

export function statusWriter(kubeConfig: KubeConfig, logger: Logger): StatusWriter {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const written = new Map<string, { fingerprint: string; resourceVersion: string | undefined }>();
  const noSubresource = new Set<string>();
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return {
    async write(writes) {
      let failed = 0;
      for (const w of writes) {
        const key = `${w.resource.plural}.${w.resource.group}/${w.namespace}/${w.name}`;
        if (w.fingerprint === w.currentFingerprint) {
          written.delete(key);
          continue;
        }
        const last = written.get(key);
        if (
          last &&
          last.fingerprint === w.fingerprint &&
          last.resourceVersion === w.resourceVersion
        )
          continue;
        try {
          const target = {
            group: w.resource.group,
            version: w.resource.version,
            plural: w.resource.plural,
            name: w.name,
            body: { status: w.status },
          };
          // A cluster-scoped object (GatewayClass) has no namespace.
          if (w.namespace === '') await api.patchClusterCustomObjectStatus(target, mergePatch);
          else
            await api.patchNamespacedCustomObjectStatus(
              { ...target, namespace: w.namespace },
              mergePatch,
            );
          written.set(key, { fingerprint: w.fingerprint, resourceVersion: w.resourceVersion });
          logger.debug({ object: `${w.resource.kind} ${w.namespace}/${w.name}` }, 'status written');
        } catch (err) {
          const code = (err as { code?: number }).code;
          if (code === 404) {
            // Deleted meanwhile, or a CRD without the status subresource (say so once).
            if (!noSubresource.has(w.resource.plural)) {
              noSubresource.add(w.resource.plural);
              logger.info(
                { kind: w.resource.kind },
                'status not written: object gone or the CRD has no status subresource',
              );
            }
            continue;
          }
          failed++;
          logger.warn(
            { object: `${w.resource.kind} ${w.namespace}/${w.name}`, err: kubeErrorMessage(err) },
            'writing status failed',
          );
        }
      }
      return failed;
    },
  };
}
