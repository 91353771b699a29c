// The control plane as one running thing: metrics and debug HTTP, the xDS server and its gRPC
// listeners, the embedded CA, the source of cluster state (config dir or Kubernetes) feeding the
// snapshot pipeline, and in cluster mode the controllers. main.ts starts it from the config.
import { KubeConfig } from '@kubernetes/client-node';
import { createLifecycle, createMetricsRegistry, type Lifecycle, type Log } from '@trellis/core';
import { createXdsServer, ENVOY_REMOVAL_ORDER, type XdsServer } from '@trellis/xds';
import type { ControlPlaneConfig } from '../config.js';
import { startControllers, type Controllers } from '../controllers/index.js';
import { configz } from '../debug/configz.js';
import { createDebugServer } from '../debug/debug-server.js';
import { syncz } from '../debug/syncz.js';
import { formatProblem, watchConfigDir } from '../ingest/index.js';
import { watchCluster } from '../ingest/kube.js';
import { setUpCa, type EmbeddedCa } from './ca-setup.js';
import { controlPlaneGenerators } from './generators.js';
import {
  formatAddress,
  startPlaintextXds,
  startSecureServer,
  type GrpcListener,
} from './grpc-servers.js';
import { createPipeline, type Pipeline } from './pipeline.js';
import type { ServedSnapshot } from './served-snapshot.js';

export interface RunningControlPlane {
  readonly xds: XdsServer<ServedSnapshot>;
  readonly pipeline: Pipeline;
  readonly lifecycle: Lifecycle;
  /** Ports actually listened on (undefined when off). */
  readonly ports: { readonly xds?: number; readonly secureXds?: number; readonly debug?: number };
}

export interface StartOptions {
  /** Signals that start shutdown; default SIGTERM and SIGINT. */
  readonly signals?: readonly NodeJS.Signals[];
}

export async function startControlPlane(
  config: ControlPlaneConfig,
  log: Log,
  options: StartOptions = {},
): Promise<RunningControlPlane> {
  const logger = log.scope('control-plane');
  const lifecycle = createLifecycle({
    logger: log.root,
    drainMs: config.drainMs,
    ...(options.signals ? { signals: options.signals } : {}),
  });
  const metrics = createMetricsRegistry();
  const xds = createXdsServer<ServedSnapshot>({
    generators: controlPlaneGenerators(),
    // Waypoints and gateways (and any Envoy or proxyless gRPC client) get a removed cluster only
    // after the routes that moved off it are ACKed.
    removalsAfter: ENVOY_REMOVAL_ORDER,
    debounce: config.debounce,
    logger: log.scope('xds'),
    meter: metrics.meter('xds'),
  });
  const pipeline = createPipeline({
    xds,
    mesh: config.mesh,
    logger: log.scope('pipeline'),
    meter: metrics.meter('pipeline'),
  });
  const kubeConfig =
    config.source.kind === 'kube' ? loadKubeConfig(config.source.kubeconfig) : undefined;
  const source =
    config.source.kind === 'dir'
      ? `config dir ${config.source.dir}`
      : `kubernetes ${kubeConfig!.getCurrentCluster()?.server ?? ''}`;

  // Everything to stop, in order (the debug server is drained by the lifecycle before this runs).
  let ingestClose: (() => Promise<void> | void) | undefined;
  let controllers: Controllers | undefined;
  let ca: EmbeddedCa | undefined;
  const listeners: GrpcListener[] = [];
  // Bounded by the drain deadline: streams are ended, then every connection closed by then.
  lifecycle.onShutdown('control plane', async ({ remainingMs }) => {
    await ingestClose?.();
    await controllers?.stop();
    await xds.close(remainingMs());
    await Promise.all(listeners.map((l) => l.close(remainingMs())));
    await ca?.stop();
    await metrics.close();
  });

  const ports: { xds?: number; secureXds?: number; debug?: number } = {};
  try {
    if (config.debugAddress) {
      const debug = createDebugServer({
        ready: () => pipeline.ready,
        syncz: () => syncz(xds.debug()),
        configz: () => configz({ snapshot: pipeline.current, servedVersion: xds.version, source }),
        metrics,
      });
      lifecycle.addServer('debug', debug.server);
      ports.debug = await debug.listen(config.debugAddress);
    }
    if (config.xdsAddress) {
      const plain = await startPlaintextXds(config.xdsAddress, xds);
      listeners.push(plain);
      ports.xds = plain.port;
    }
    if (config.secureXdsAddress) {
      ca = await setUpCa({
        config,
        kubeConfig,
        pods: () => pipeline.current?.cluster.pods ?? [],
        logger: log.scope('ca'),
        meter: metrics.meter('ca'),
      });
      const secure = await startSecureServer({
        address: config.secureXdsAddress,
        ca: ca.ca,
        xds,
        authenticator: ca.authenticator,
        dnsNames: config.caDnsNames,
        logger: log.scope('secure'),
      });
      listeners.push(secure);
      ports.secureXds = secure.port;
    }

    if (config.source.kind === 'dir') {
      const ingestLog = log.scope('ingest');
      const watcher = watchConfigDir(config.source.dir, {
        limits: config.configLimits,
        onLoad(load) {
          for (const p of load.problems)
            ingestLog.error({ file: p.file, document: p.document }, formatProblem(p));
          ingestLog.info(
            {
              files: load.files.length,
              problems: load.problems.length,
              ignored: load.ignored.length,
            },
            'config dir loaded',
          );
          pipeline.apply(load.snapshot, load.problems);
        },
        onError: (err) =>
          ingestLog.error(
            { err: err.message },
            'config dir cannot be read; still serving the last good state',
          ),
      });
      ingestClose = () => watcher.close();
      await watcher.ready;
    } else {
      if (config.controllers) {
        controllers = startControllers({
          kubeConfig: kubeConfig!,
          waypoint: {
            image: config.waypoint.image,
            controlPlaneAddress: config.waypoint.controlPlaneAddress,
            trustDomain: config.mesh.trustDomain,
            clusterId: config.mesh.clusterId,
            ...(config.waypoint.otlpEndpoint ? { otlpEndpoint: config.waypoint.otlpEndpoint } : {}),
          },
          logger: log.scope('controllers'),
        });
        pipeline.onSnapshot((s) => controllers!.update(s));
      }
      const watch = watchCluster({
        kubeConfig: kubeConfig!,
        logger: log.scope('ingest'),
        meter: metrics.meter('ingest'),
        onSnapshot: (s, rejected) => pipeline.apply(s, rejected),
      });
      ingestClose = () => watch.close();
      // Not awaited: the servers are up and /ready tells when the first snapshot is served.
      void watch.ready;
    }
  } catch (err) {
    await lifecycle.shutdown('start-up failed');
    throw err;
  }
  logger.info(
    {
      source,
      xds: config.xdsAddress && formatAddress({ ...config.xdsAddress, port: ports.xds! }),
      secureXds:
        config.secureXdsAddress &&
        formatAddress({ ...config.secureXdsAddress, port: ports.secureXds! }),
      debug: config.debugAddress && formatAddress({ ...config.debugAddress, port: ports.debug! }),
      ca: ca?.location,
    },
    'trellis-control-plane serving',
  );
  return { xds, pipeline, lifecycle, ports };
}

function loadKubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (file) kc.loadFromFile(file);
    else kc.loadFromCluster();
  } catch (err) {
    throw new Error(
      `${file ? `--kubeconfig ${file}` : 'in-cluster config'}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (!kc.getCurrentCluster()) throw new Error(`--kubeconfig ${file}: no current cluster`);
  return kc;
}
