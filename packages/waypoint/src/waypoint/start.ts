// A role of the L7 engine assembled: identity, the engine with an HBONE connector, the Envoy xDS
// subscription, the front door (waypoint: the HBONE server; gateway: the Listeners' ports),
// admin / metrics / readiness, and a graceful drain. main.ts calls it with the process settings;
// tests and benchmarks call it in-process.
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import {
  createMetricsRegistry,
  startTracing,
  type HostPort,
  type Log,
  type MetricsRegistry,
  type Tracing,
} from '@trellis/core';
import { HboneClient, type HboneServer } from '@trellis/hbone';
import { createDeltaClient, createSotwClient, type XdsClient } from '@trellis/xds';
import { createAdminServer } from '../admin/admin-server.js';
import { startServer } from '../admin/http-util.js';
import { createMetricsServer, createReadinessServer } from '../admin/status-servers.js';
import { Engine } from '../engine/engine.js';
import { AccessLog, type AccessLogSink } from '../engine/telemetry/access-log.js';
import { RequestTracer } from '../engine/telemetry/tracing.js';
import { clusterStatsText } from '../engine/upstream/cluster-stats.js';
import { XdsConfig } from '../engine/xds-config.js';
import type { WaypointConfig } from '../config.js';
import { GatewayFront } from '../gateway/front.js';
import { hboneConnector } from './connector.js';
import { createHboneFront } from './hbone-front.js';
import type { WaypointIdentity } from './identity.js';

export interface WaypointDeps {
  readonly log: Log;
  readonly identity: WaypointIdentity;
  /** Where access-log lines go (default: none). */
  readonly accessLogSink?: AccessLogSink;
  /** xDS channel credentials (default: from the settings: TLS + bearer token, or plaintext). */
  readonly xdsCredentials?: ChannelCredentials;
  readonly hostname?: string;
}

export interface Waypoint {
  readonly engine: Engine;
  readonly ports: {
    readonly hbone: number;
    readonly admin: number;
    readonly metrics: number;
    readonly readiness: number;
  };
  /** Resolves once certificate and the first complete configuration are in. */
  readonly ready: Promise<void>;
  readonly nodeId: string;
  /** The gateway role's listeners (undefined for a waypoint). */
  readonly gateway?: GatewayFront;
  metricsText(): Promise<string>;
  /** Stops taking new work, lets in-flight requests finish for up to `drainMs`, then closes. */
  shutdown(drainMs: number): Promise<void>;
  /** Resolves when shut down (by shutdown() or /quitquitquit). */
  readonly done: Promise<void>;
}

/**
 * Istio's node id: waypoint~<ip>~<pod>.<ns>~<ns>.svc.<domain> for a waypoint, router~... for a
 * gateway.
 */
export function waypointNodeId(
  c: Pick<WaypointConfig, 'podIp' | 'podName' | 'podNamespace' | 'domainSuffix'> &
    Partial<Pick<WaypointConfig, 'role'>>,
): string {
  const type = c.role === 'gateway' ? 'router' : 'waypoint';
  return `${type}~${c.podIp}~${c.podName}.${c.podNamespace}~${c.podNamespace}.svc.${c.domainSuffix}`;
}

/** TLS to the mesh root, and the service-account token (re-read per call) as bearer token. */
export function tokenCredentials(rootPem: string, tokenPath: string): ChannelCredentials {
  const token = credentials.createFromMetadataGenerator((_p, cb) => {
    readFile(tokenPath, 'utf8').then(
      (t) => {
        const md = new Metadata();
        md.set('authorization', `Bearer ${t.trim()}`);
        cb(null, md);
      },
      (err: Error) => cb(new Error(`reading token ${tokenPath}: ${err.message}`)),
    );
  });
  return credentials.combineChannelCredentials(credentials.createSsl(Buffer.from(rootPem)), token);
}

/**
 * How long a draining waypoint or gateway still takes new connections (at most the drain timeout):
 * the time for its pod's removal from the endpoints to reach the peers and load balancers.
 */
export const ACCEPT_WHILE_DRAINING_MS = 3_000;

const hp = (a: HostPort): string => `${a.host || '0.0.0.0'}:${a.port}`;

export async function startWaypoint(config: WaypointConfig, deps: WaypointDeps): Promise<Waypoint> {
  const { log, identity } = deps;
  const role = config.role;
  const logger = log.scope(role);
  const registry: MetricsRegistry = createMetricsRegistry();
  const tracing: Tracing = startTracing({
    serviceName: `${config.gatewayName}.${config.podNamespace}`,
    ...(config.otlpEndpoint ? { otlpEndpoint: config.otlpEndpoint } : {}),
  });
  const accessLog = deps.accessLogSink ? new AccessLog(deps.accessLogSink) : undefined;
  const tracer = tracing.enabled
    ? new RequestTracer({
        tracer: tracing.tracer(`trellis-${role}`),
        sampling: config.traceSampling / 100,
        random: Math.random,
        attributes: {
          node_id: waypointNodeId(config),
          'istio.canonical_service': config.gatewayName,
          'istio.namespace': config.podNamespace,
          'istio.mesh_id': config.trustDomain,
        },
      })
    : undefined;
  const hboneClient = new HboneClient({ meter: registry.meter('hbone') });
  const engine = new Engine({
    connector: hboneConnector({ client: hboneClient, identity, hbonePort: config.hbonePort }),
    logger: log.scope('engine'),
    hostname: deps.hostname ?? config.podName,
    // Istio labels a gateway's request metrics as the source's report.
    reporter: role === 'gateway' ? 'source' : 'waypoint',
    ...(accessLog ? { accessLog } : {}),
    ...(tracer ? { tracer } : {}),
    meter: registry.meter(role),
  });
  const gateway =
    role === 'gateway'
      ? new GatewayFront({
          engine,
          logger: log.scope('gateway'),
          self: {
            principal: identity.spiffeId,
            workload: config.workloadName || config.gatewayName,
            namespace: config.podNamespace,
            canonicalService: config.workloadName || config.gatewayName,
            canonicalRevision: 'latest',
            cluster: config.clusterId,
          },
          ...(config.listenerHost ? { bindHost: config.listenerHost } : {}),
        })
      : undefined;

  const nodeId = waypointNodeId(config);
  const xdsCreds =
    deps.xdsCredentials ??
    (config.xdsPlaintext
      ? credentials.createInsecure()
      : tokenCredentials(await readFile(config.caRootCert, 'utf8'), config.tokenPath));
  const clientOptions = {
    address: hp(config.xdsAddress),
    credentials: xdsCreds,
    node: {
      id: nodeId,
      cluster: `${config.gatewayName}.${config.podNamespace}`,
      metadata: {
        LABELS: { 'gateway.networking.k8s.io/gateway-name': config.gatewayName },
        NAMESPACE: config.podNamespace,
        NAME: config.podName,
        CLUSTER_ID: config.clusterId,
        SERVICE_ACCOUNT: config.serviceAccount,
        INSTANCE_IPS: config.podIp,
      },
    },
    logger: log.scope('xds'),
  };
  const xdsClient: XdsClient =
    config.xdsProtocol === 'sotw'
      ? createSotwClient(clientOptions)
      : createDeltaClient(clientOptions);
  let synced!: () => void;
  const configSynced = new Promise<void>((r) => (synced = r));
  const xds = new XdsConfig(xdsClient, engine, {
    logger: log.scope('xds'),
    onSynced: () => synced(),
    ...(gateway ? { onListeners: () => gateway.sync() } : {}),
  });

  let certReady = false;
  const certificate = identity.certificate().then(() => {
    certReady = true;
  });
  let draining = false;
  let configReady = false;
  configSynced.then(
    () => (configReady = true),
    () => undefined,
  );

  const front: HboneServer | undefined = gateway
    ? undefined
    : createHboneFront({
        engine,
        identity,
        listener: () => hboneListener(engine, config.hboneAddress.port),
        logger: log.scope('hbone'),
        meter: registry.meter('hbone'),
      });
  const metricsText = async (): Promise<string> =>
    (await registry.text()) +
    engine.metrics.text() +
    clusterStatsText(engine.clusters()) +
    engine.services.mirrorDrops.text() +
    xds.warmingText();

  let quit: () => void = () => undefined;
  const admin = createAdminServer({
    engine,
    xds: () => xds,
    log,
    bootstrap: () => ({
      role,
      node: nodeId,
      gateway: `${config.podNamespace}/${config.gatewayName}`,
      identity: identity.summary(),
      xdsAddress: hp(config.xdsAddress),
      xdsProtocol: config.xdsProtocol,
      ...(gateway ? { listeners: gateway.status() } : {}),
    }),
    metricsText,
    onQuit: () => quit(),
  });
  const metricsServer = createMetricsServer(metricsText);
  const readiness = createReadinessServer(() => {
    if (draining) return 'draining';
    const waiting = [
      !certReady && 'workload certificate',
      !configReady && 'initial xDS configuration',
    ].filter(Boolean);
    return waiting.length > 0 ? `waiting for ${waiting.join(' and ')}` : undefined;
  });
  const servers: Server[] = [admin, metricsServer, readiness];
  const [hbonePort, adminPort, metricsPort, readinessPort] = await Promise.all([
    front
      ? front
          .listen({ host: config.hboneAddress.host || '::', port: config.hboneAddress.port })
          .then((a) => a.port)
      : 0,
    startServer(admin, config.adminAddress),
    startServer(metricsServer, config.metricsAddress),
    startServer(readiness, config.readinessAddress),
  ]);
  logger.info(
    {
      node: nodeId,
      identity: identity.spiffeId,
      ...(front ? { hbone: hbonePort } : {}),
      admin: adminPort,
      metrics: metricsPort,
      readiness: readinessPort,
    },
    `${role} started`,
  );

  let doneResolve!: () => void;
  const done = new Promise<void>((r) => (doneResolve = r));
  let stopping: Promise<void> | undefined;
  const shutdown = (drainMs: number): Promise<void> =>
    (stopping ??= (async () => {
      draining = true;
      // New connections are still taken for a moment (each told to go elsewhere after its
      // request): peers whose endpoint lists still name this pod are served, not refused.
      const acceptMs = Math.min(drainMs, ACCEPT_WHILE_DRAINING_MS);
      logger.info(
        { drainMs, acceptMs },
        'draining: in-flight requests finish, new connections are told to go elsewhere',
      );
      engine.drain();
      await (front ? front.close({ drainMs, acceptMs }) : gateway!.close({ drainMs, acceptMs }));
      xdsClient.close();
      xds.close();
      engine.close();
      await hboneClient.close().catch(() => undefined);
      identity.close();
      for (const s of servers) s.closeAllConnections?.();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      await tracing.shutdown();
      await registry.close();
      logger.info(`${role} stopped`);
      doneResolve();
    })());
  quit = () => void shutdown(config.drainTimeout);

  return {
    engine,
    ports: { hbone: hbonePort, admin: adminPort, metrics: metricsPort, readiness: readinessPort },
    ready: Promise.all([certificate, configSynced.then(() => gateway?.listening())]).then(
      () => undefined,
    ),
    nodeId,
    ...(gateway ? { gateway } : {}),
    metricsText,
    shutdown,
    done,
  };
}

/** The listener that serves HBONE tunnels: the one bound to the HBONE port (else the only one). */
function hboneListener(engine: Engine, port: number): string | undefined {
  const names = engine.listenerNames();
  const onPort = names.filter((n) => engine.listenerPort(n) === port).sort();
  return onPort[0] ?? (names.length === 1 ? names[0] : undefined);
}
