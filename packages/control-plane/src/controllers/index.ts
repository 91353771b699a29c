// Cluster-mode controllers, driven by the snapshots the pipeline builds: waypoint and ingress
// gateway deployment and status writing. One reconcile runs at a time on the newest snapshot; failures retry after a
// delay, and everything is applied again every `resyncMs` (which also recreates deleted objects).
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '@trellis/core';
import type { ServedSnapshot } from '../server/served-snapshot.js';
import { desiredStatuses } from './desired-status.js';
import { withListenerSetPorts } from './gateway-objects.js';
import { isIngressGateway, gatewayDecision } from '../translate/envoy/gateway-listeners.js';
import { isWaypointClass } from './status-context.js';
import { statusWriter } from './status-writer.js';
import { waypointDeployer } from './waypoint-deployer.js';
import type { WaypointDeploymentOptions } from './waypoint-objects.js';

export interface ControllersOptions {
  readonly kubeConfig: KubeConfig;
  readonly waypoint: WaypointDeploymentOptions;
  readonly logger: Logger;
  /** Default 5 s. */
  readonly retryMs?: number;
  /** Default 5 min. */
  readonly resyncMs?: number;
}

export interface Controllers {
  /** Hands the controllers a new snapshot. */
  update(snapshot: ServedSnapshot): void;
  stop(): Promise<void>;
}

export function startControllers(o: ControllersOptions): Controllers {
  const deployer = waypointDeployer(o.kubeConfig, o.waypoint, o.logger);
  const writer = statusWriter(o.kubeConfig, o.logger);
  let latest: ServedSnapshot | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const run = async () => {
    do {
      again = false;
      const s = latest;
      if (!s || stopped) break;
      let failed = 0;
      try {
        const waypoints = s.cluster.gateways.filter((g) => isWaypointClass(g, s.state.options));
        // An ingress Gateway listens on the ports of its ListenerSets' listeners too.
        const ingress = s.cluster.gateways
          .filter((g) => isIngressGateway(s.envoy, g))
          .map((g) => withListenerSetPorts(g, gatewayDecision(s.envoy, g).listeners));
        failed += await deployer.reconcile(waypoints, ingress);
        failed += await writer.write(desiredStatuses(s, new Date(), deployer.failures()));
      } catch (err) {
        failed++;
        o.logger.error({ err: (err as Error).stack ?? String(err) }, 'reconcile failed');
      }
      if (failed > 0 && !stopped) {
        clearTimeout(retry);
        retry = setTimeout(kick, o.retryMs ?? 5000);
      }
    } while (again && !stopped);
    running = undefined;
  };
  const kick = () => {
    if (stopped) return;
    if (running) again = true;
    else running = run();
  };
  const resync = setInterval(() => {
    deployer.resync();
    kick();
  }, o.resyncMs ?? 300_000);
  resync.unref();

  return {
    update(snapshot) {
      latest = snapshot;
      kick();
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      clearInterval(resync);
      await running;
    },
  };
}
