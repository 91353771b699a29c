// Applies the ServiceAccount, Service and Deployment of every waypoint Gateway and every ingress
// Gateway (gateway-objects.ts; an ingress Gateway's parametersRef ConfigMap is read here) with
// server-side apply (field manager trellis-waypoint-controller), when what is desired changes or
// at resync. Objects of a deleted Gateway are garbage-collected by Kubernetes through their
// ownerReferences. Also makes sure GatewayClass trellis-waypoint and the ingress classes exist,
// (their status is the status writer's). I/O only.
import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from '@trellis/core';
import { kubeErrorMessage } from '../ingest/kube-errors.js';
import type { Gateway } from '../model/gateway-api.js';
import { waypointGatewayProblem } from './gateway-status.js';
import { gatewayClassObject, INGRESS_GATEWAY_CLASSES } from './gateway-class-status.js';
import { gatewayObjects, gatewayParameters, gatewaySettingsProblem } from './gateway-objects.js';
import { CONTROLLER_NAME, GATEWAY_CONTROLLER_NAME } from './route-status.js';
import {
  waypointObjects,
  type WaypointDeploymentOptions,
  type WaypointObjects,
} from './waypoint-objects.js';

export const FIELD_MANAGER = 'trellis-waypoint-controller';
export const WAYPOINT_CLASS = 'trellis-waypoint';

export interface WaypointDeployer {
  /**
   * Applies what changed for these Gateways (`gateways` of a waypoint class, `ingress` of an
   * ingress class); resolves with the number of failures.
   */
  reconcile(gateways: readonly Gateway[], ingress?: readonly Gateway[]): Promise<number>;
  /** Forgets what was applied, so the next reconcile applies everything again. */
  resync(): void;
  /** Gateway key -> why applying its objects failed the last time it was tried. */
  failures(): ReadonlyMap<string, string>;
}

export function waypointDeployer(
  kubeConfig: KubeConfig,
  options: WaypointDeploymentOptions,
  logger: Logger,
): WaypointDeployer {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const applied = new Map<string, string>();
  let classApplied = false;
  let ingressClassesDone = false;
  /** Gateways whose settings were reported, with the problem (so each is logged once). */
  const reported = new Map<string, string>();
  const failures = new Map<string, string>();
  const apply = (obj: KubernetesObject) =>
    api.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);

  return {
    async reconcile(gateways, ingress = []) {
      let failed = 0;
      if (!ingressClassesDone) {
        ingressClassesDone = true;
        if (!(await ingressClasses())) ingressClassesDone = false;
      }
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
        if (!(await applyObjects(key, waypointObjects(gw, options), 'waypoint'))) failed++;
      }
      for (const gw of ingress) {
        const key = `${gw.metadata.namespace}/${gw.metadata.name}`;
        live.add(key);
        const objects = await ingressObjects(gw, key);
        if (objects && !(await applyObjects(key, objects, 'gateway'))) failed++;
      }
      for (const key of applied.keys()) if (!live.has(key)) applied.delete(key);
      for (const key of failures.keys()) if (!live.has(key)) failures.delete(key);
      return failed;
    },
    failures: () => failures,
    resync() {
      applied.clear();
      reported.clear();
      classApplied = false;
      ingressClassesDone = false;
    },
  };

  /** Applies what changed; false when applying failed. */
  async function applyObjects(key: string, objects: WaypointObjects, what: string) {
    const fingerprint = JSON.stringify(objects);
    if (applied.get(key) === fingerprint) return true;
    for (const o of [objects.serviceAccount, objects.service, objects.deployment]) {
      try {
        await apply(o as KubernetesObject);
      } catch (err) {
        // Kept for the Gateway's status (Programmed False, NoResources) until an apply succeeds.
        const why = `${o.kind} ${o.metadata?.namespace}/${o.metadata?.name} was refused: ${kubeErrorMessage(err)}`;
        if (failures.get(key) !== why)
          logger.warn({ gateway: key, err: why }, `applying the ${what} failed`);
        failures.set(key, why);
        // What went in before the refusal is not what was applied last: apply all again next time,
        // even if the objects change back to that.
        applied.delete(key);
        return false;
      }
    }
    applied.set(key, fingerprint);
    failures.delete(key);
    logger.info({ gateway: key }, `${what} applied`);
    return true;
  }

  /** An ingress Gateway's objects with its settings; undefined (logged once) when they are bad. */
  async function ingressObjects(gw: Gateway, key: string): Promise<WaypointObjects | undefined> {
    const report = (problem: string) => {
      if (reported.get(key) !== problem)
        logger.warn({ gateway: key }, `gateway not deployed: ${problem}`);
      reported.set(key, problem);
      return undefined;
    };
    const problem = gatewaySettingsProblem(gw);
    if (problem) return report(problem);
    const ref = gw.spec.infrastructure?.parametersRef;
    let data: Record<string, string> | undefined;
    if (ref) {
      try {
        const cm = await core.readNamespacedConfigMap({
          name: ref.name,
          namespace: gw.metadata.namespace,
        });
        data = cm.data;
      } catch (err) {
        return report(
          `spec.infrastructure.parametersRef: ConfigMap ${gw.metadata.namespace}/${ref.name}: ${kubeErrorMessage(err)}`,
        );
      }
    }
    const params = gatewayParameters(data);
    if (!params.ok)
      return report(
        `spec.infrastructure.parametersRef: ConfigMap ${gw.metadata.namespace}/${ref?.name}: ${params.problem}`,
      );
    reported.delete(key);
    return gatewayObjects(gw, options, params.value);
  }

  /**
   * Applies the ingress GatewayClasses (one already owned by another controller, such as Istio's
   * `istio`, is left alone; the status writer writes the status of every class that is ours).
   * False when the Gateway API is not there yet.
   */
  async function ingressClasses(): Promise<boolean> {
    for (const c of INGRESS_GATEWAY_CLASSES) {
      const group = 'gateway.networking.k8s.io';
      let current: {
        metadata?: { generation?: number };
        spec?: { controllerName?: string };
        status?: { conditions?: { type: string; status: string }[] };
      };
      try {
        current = (await custom
          .getClusterCustomObject({ group, version: 'v1', plural: 'gatewayclasses', name: c.name })
          .catch(async (err: { code?: number }) => {
            if (err.code !== 404) throw err;
            await apply(gatewayClassObject(c) as KubernetesObject);
            return custom.getClusterCustomObject({
              group,
              version: 'v1',
              plural: 'gatewayclasses',
              name: c.name,
            });
          })) as typeof current;
      } catch (err) {
        logger.info(
          { err: kubeErrorMessage(err) },
          `GatewayClass ${c.name} not applied (is the Gateway API installed?)`,
        );
        return false;
      }
      if (current.spec?.controllerName !== GATEWAY_CONTROLLER_NAME) {
        logger.info(
          { controller: current.spec?.controllerName },
          `GatewayClass ${c.name} belongs to another controller; its Gateways are left to it`,
        );
        continue;
      }
    }
    return true;
  }
}
