// The xDS server: owners publish immutable snapshots with update(); updates are debounced into one
// snapshot version, every connection watching a changed type is queued, and the push queue serves
// connections one at a time (see connection.ts for the flow-control rule). The gRPC service is
// mounted on servers the caller owns with addAdsService.
import { status, type Server, type ServerDuplexStream } from '@grpc/grpc-js';
import { metrics as otelMetrics, type Meter } from '@opentelemetry/api';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  grpcService,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
  type GrpcServiceImplementation,
} from '@trellis/api';
import { AggregatedDiscoveryService } from '@trellis/api/gen/envoy/service/discovery/v3/ads_pb.js';
import { createLogger, type Logger } from '@trellis/core';
import {
  Connection,
  type NodeAdmission,
  type Published,
  type ServerContext,
} from './connection.js';
import { debouncer } from './debounce.js';
import { serveDelta } from './delta-stream.js';
import { xdsMetrics } from './metrics.js';
import { pushQueue } from './push-queue.js';
import { serializeDeltaResponse, serializeSotwResponse } from './response-encoding.js';
import { serveSotw } from './sotw-stream.js';
import type { ConnectionDebug, GeneratedResources, Generator, SnapshotUpdate } from './types.js';
import { WILDCARD_ALL } from '../subscription.js';
import { nonceSource } from '../versioning.js';

export interface XdsServerOptions<S> {
  /** Generators by type URL. A type without one is served as having no resources. */
  readonly generators: ReadonlyMap<string, Generator<S>> | Readonly<Record<string, Generator<S>>>;
  /** The initial snapshot. Without one, streams are accepted but nothing is sent until the first update. */
  readonly snapshot?: S;
  readonly debounce?: {
    /** Publish after this long without a new update; default 100 ms. */
    readonly quietMs?: number;
    /** Publish at most this long after the first update of a batch; default 1000 ms. */
    readonly maxDelayMs?: number;
  };
  /**
   * Make-before-break, by type URL: the types whose client state a removal of that type waits for.
   * A resource gone from the snapshot stays with the client (SotW: resent as last sent; delta: not
   * yet in removed_resources) until every listed type is caught up on the stream: its responses
   * ACKed, nothing of it pending. So a route moved off a cluster is ACKed before the cluster goes,
   * as the xDS protocol asks of a server. ENVOY_REMOVAL_ORDER is the rule for Envoy's types.
   * Default: none (removals go out at once).
   */
  readonly removalsAfter?: Readonly<Record<string, readonly string[]>>;
  /** Default: silent. */
  readonly logger?: Logger;
  /** Default: the global OpenTelemetry meter provider (a no-op unless one is registered). */
  readonly meter?: Meter;
}

export type AdsHandlers = GrpcServiceImplementation<typeof AggregatedDiscoveryService>;

export interface XdsServer<S> {
  /** The grpc-js handlers; see addAdsService. */
  readonly handlers: AdsHandlers;
  /** Handlers for the same streams that first ask `admit` about each stream's node. */
  admittingHandlers(admit: NodeAdmission): AdsHandlers;
  /** Publishes a new snapshot (debounced). Throws after close(). */
  update(update: SnapshotUpdate<S>): void;
  /** Publishes pending updates now instead of waiting for the debounce. */
  flush(): void;
  /** Version of the snapshot being served ("0" before the first). */
  readonly version: string;
  /** Number of open streams that have identified themselves. */
  readonly connections: number;
  /** Per stream: proxy, subscriptions, sent/ACKed versions and nonces, NACKs. */
  debug(): ConnectionDebug[];
  /** Stops publishing, refuses new streams and ends open ones, waiting up to `graceMs` (default 5000). */
  close(graceMs?: number): Promise<void>;
}

/** Mounts the ADS service (SotW and delta) of `xds` on a grpc-js server the caller owns. */
export function addAdsService(server: Server, xds: Pick<XdsServer<unknown>, 'handlers'>): void {
  const ads = grpcService(AggregatedDiscoveryService);
  // Responses are serialized with each resource's bytes encoded once for all streams.
  server.addService(
    {
      ...ads,
      streamAggregatedResources: {
        ...ads.streamAggregatedResources,
        responseSerialize: serializeSotwResponse,
      },
      deltaAggregatedResources: {
        ...ads.deltaAggregatedResources,
        responseSerialize: serializeDeltaResponse,
      },
    },
    xds.handlers,
  );
}

const NONE: GeneratedResources = new Map();
const NO_TYPES: readonly string[] = [];

/**
 * Envoy's references between types: listeners name route configurations, listeners and routes
 * name clusters, clusters own their load assignments, listeners and clusters name secrets. A
 * removal waits for the types that may name what it removes.
 */
export const ENVOY_REMOVAL_ORDER: Readonly<Record<string, readonly string[]>> = {
  [ROUTE_CONFIGURATION_TYPE_URL]: [LISTENER_TYPE_URL],
  [CLUSTER_TYPE_URL]: [LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL],
  [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: [CLUSTER_TYPE_URL],
  [SECRET_TYPE_URL]: [LISTENER_TYPE_URL, CLUSTER_TYPE_URL],
};

interface Batch<S> {
  readonly snapshot: S;
  /** undefined: every type. */
  readonly types: Set<string> | undefined;
  readonly since: number;
}

export function createXdsServer<S>(opts: XdsServerOptions<S>): XdsServer<S> {
  const generators = new Map<string, Generator<S>>(
    opts.generators instanceof Map ? opts.generators : Object.entries(opts.generators),
  );
  const log = opts.logger ?? createLogger({ level: 'silent' }).root;
  /** Streams that identified themselves (sent a node). */
  const connections = new Set<Connection<S>>();
  /** Every open stream, for close(). */
  const streams = new Set<Connection<S>>();
  const metrics = xdsMetrics(
    opts.meter ?? otelMetrics.getMeter('trellis-xds'),
    () => connections.size,
    new Set(generators.keys()),
  );
  const queue = pushQueue<Connection<S>>((conn) => conn.flush());
  let serial = 0;
  let streamCount = 0;
  let current: Published<S> | undefined;
  let closed = false;

  const publish = (batch: Batch<S>, count: number) => {
    current = { value: batch.snapshot, version: String(++serial) };
    metrics.debounced(count);
    log.debug({ version: current.version, updates: count }, 'snapshot published');
    for (const conn of connections) if (conn.changed(batch.types, batch.since)) queue.enqueue(conn);
  };
  if (opts.snapshot !== undefined) current = { value: opts.snapshot, version: String(++serial) };

  const debounce = debouncer<Batch<S>>({
    quietMs: opts.debounce?.quietMs ?? 100,
    maxDelayMs: opts.debounce?.maxDelayMs ?? 1000,
    merge: (pending, update) => ({
      snapshot: update.snapshot,
      types: !pending
        ? update.types
        : pending.types && update.types
          ? new Set([...pending.types, ...update.types])
          : undefined,
      since: pending?.since ?? update.since,
    }),
    publish,
  });

  // Results of scoped generators for the snapshot version `sharedFor`, by type URL and scope key.
  const shared = new Map<string, GeneratedResources>();
  let sharedFor: string | undefined;
  const ctx: ServerContext<S> = {
    current: () => current,
    generate(typeUrl, snapshot, proxy, context) {
      const generate = generators.get(typeUrl);
      if (!generate) return NONE;
      if (!generate.scope) return generate(typeUrl, snapshot.value, proxy, context);
      if (sharedFor !== snapshot.version) {
        shared.clear();
        sharedFor = snapshot.version;
      }
      const key = `${typeUrl}\0${generate.scope(proxy, typeUrl)}`;
      let result = shared.get(key);
      if (!result) {
        result = generate(typeUrl, snapshot.value, proxy, {
          ...context,
          subscription: WILDCARD_ALL,
        });
        shared.set(key, result);
      }
      return result;
    },
    metrics,
    log,
    removalsAfter: (typeUrl) => opts.removalsAfter?.[typeUrl] ?? NO_TYPES,
    nonce: nonceSource(),
    enqueue: (conn) => queue.enqueue(conn),
    register: (conn) => connections.add(conn),
    unregister: (conn) => connections.delete(conn),
    nextConnectionId: (nodeId) => `${nodeId}-${++streamCount}`,
  };

  const refuseIfClosed = (call: ServerDuplexStream<unknown, unknown>): boolean => {
    if (!closed) return false;
    call.emit(
      'error',
      Object.assign(new Error('xDS server is shutting down'), {
        code: status.UNAVAILABLE,
        details: 'xDS server is shutting down',
      }),
    );
    return true;
  };

  const track = (conn: Connection<S>) => {
    streams.add(conn);
    void conn.finished.then(() => streams.delete(conn));
  };
  const makeHandlers = (admit?: NodeAdmission): AdsHandlers => ({
    streamAggregatedResources(call) {
      if (!refuseIfClosed(call as ServerDuplexStream<unknown, unknown>))
        track(serveSotw(call, ctx, admit));
    },
    deltaAggregatedResources(call) {
      if (!refuseIfClosed(call as ServerDuplexStream<unknown, unknown>))
        track(serveDelta(call, ctx, admit));
    },
  });

  return {
    handlers: makeHandlers(),
    admittingHandlers: makeHandlers,
    update(update) {
      if (closed) throw new Error('xDS server is closed: update() after close()');
      debounce.add({
        snapshot: update.snapshot,
        types: update.types === undefined ? undefined : new Set(update.types),
        since: performance.now(),
      });
    },
    flush: () => debounce.flush(),
    get version() {
      return current?.version ?? '0';
    },
    get connections() {
      return connections.size;
    },
    debug: () =>
      [...connections]
        .map((c) => c.debug())
        .sort((a, b) => a.connectionId.localeCompare(b.connectionId)),
    async close(graceMs = 5000) {
      if (closed) return;
      closed = true;
      debounce.cancel();
      queue.stop();
      await Promise.all([...streams].map((c) => c.end(graceMs)));
      metrics.stop();
    },
  };
}
