// Applies the ServiceAccount, Service and Deployment of every waypoint Gateway with server-side
// apply (field manager trellis-waypoint-controller), when what is desired changes or at resync.
// Objects of a deleted Gateway are garbage-collected by Kubernetes through their ownerReferences.
// Also makes sure GatewayClass trellis-waypoint exists. I/O only.
import {
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from '@trellis/core';
import { kubeErrorMessage } from '../ingest/kube-errors.js';
import type { Gateway } from '../model/gateway-api.js';
import { waypointGatewayProblem } from './gateway-status.js';
import { CONTROLLER_NAME } from './route-status.js';
import { waypointObjects, type WaypointDeploymentOptions } from './waypoint-objects.js';

export const FIELD_MANAGER = 'trellis-waypoint-controller';
export const WAYPOINT_CLASS = 'trellis-waypoint';

export interface WaypointDeployer {
  /** Applies what changed for these Gateways (all of a waypoint class); resolves with the number of failures. */
  reconcile(gateways: readonly Gateway[]): Promise<number>;
  /** Forgets what was applied, so the next reconcile applies everything again. */
  resync(): void;
}

export function waypointDeployer(
  kubeConfig: KubeConfig,
  options: WaypointDeploymentOptions,
  logger: Logger,
): WaypointDeployer {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  const applied = new Map<string, string>();
  let classApplied = false;
  const apply = (obj: KubernetesObject) =>
    api.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);

  return {
    async reconcile(gateways) {
      let failed = 0;
      if (!classApplied) {
        classApplied = true;
        await apply({
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'GatewayClass',
          metadata: { name: WAYPOINT_CLASS },
          spec: {
            controllerName: CONTROLLER_NAME,
            description: 'Trellis waypoints (ambient L7 proxies)',
          },
        } as KubernetesObject).catch((err: Error) =>
          logger.info(
            { err: kubeErrorMessage(err) },
            `GatewayClass ${WAYPOINT_CLASS} not applied (is the Gateway API installed?)`,
          ),
        );
      }
      const live = new Set<string>();
      for (const gw of gateways) {
        const key = `${gw.metadata?.namespace}/${gw.metadata?.name}`;
        live.add(key);
        const problem = waypointGatewayProblem(gw);
        if (problem) continue; // reported in the Gateway's status
        const objects = waypointObjects(gw, options);
        const fingerprint = JSON.stringify(objects);
        if (applied.get(key) === fingerprint) continue;
        try {
          await apply(objects.serviceAccount as KubernetesObject);
          await apply(objects.service as KubernetesObject);
          await apply(objects.deployment as KubernetesObject);
          applied.set(key, fingerprint);
          logger.info({ gateway: key }, 'waypoint applied');
        } catch (err) {
          failed++;
          logger.warn({ gateway: key, err: kubeErrorMessage(err) }, 'applying the waypoint failed');
        }
      }
      for (const key of applied.keys()) if (!live.has(key)) applied.delete(key);
      return failed;
    },
    resync() {
      applied.clear();
      classApplied = false;
    },
  };
}
