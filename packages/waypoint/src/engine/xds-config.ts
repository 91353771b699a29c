// The engine fed by Envoy xDS: LDS and CDS with a wildcard, RDS for the route names the listeners
// use, EDS for the clusters' ClusterLoadAssignments, SDS for the certificates of TLS chains
// (subscriptions follow the config). Each
// resource is validated at the edge; a response with a bad one is NACKed with the reasons and the
// last good config keeps serving. The raw resources are kept for /config_dump.
// Listener and route updates that name clusters still warming (no EDS answer yet) are held until
// those are warm or their initial_fetch_timeout passed (warming-gate.ts), as Envoy warms clusters.
// A cluster CDS removes while the applied listeners or routes still send to it is kept, with its
// endpoints, until an applied update no longer names it: make before break on the proxy's side.
// The update that moves its traffic elsewhere often comes after the removal (held while the new
// cluster warms, or simply later on the stream), and meanwhile its requests found no cluster
// (500, response flag NC): a few requests at each backend change in the soak benchmark. A route
// may also go on naming a removed cluster on purpose (its Service was deleted: Gateway API wants
// 500), so the cluster goes anyway RETIRE_GRACE_MS after its removal unless an update is held.
import { toJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import {
  apiRegistry,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
} from '@trellis/api';
import { ClusterSchema } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { SecretSchema } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { Logger } from '@trellis/core';
import { protoDecoder, type ResourceChange, type Watch, type XdsClient } from '@trellis/xds';
import { convertCluster, convertEndpoints } from './convert/cluster.js';
import type { Converted } from './convert/common.js';
import { convertListener } from './convert/listener.js';
import { convertRouteConfiguration } from './convert/route-config.js';
import { convertSecret, redactSecret } from './convert/secret.js';
import { redactCluster } from './convert/redact-cluster.js';
import type { Engine } from './engine.js';
import type { ListenerModel } from './model/listener.js';
import type { RouteTable } from './model/route.js';
import { decideRetiring } from './retiring.pure.js';
import { WarmingGate } from './warming-gate.js';
import { listenerClusters, routeTableClusters } from './warming.pure.js';

/**
 * How long a removed cluster that routes still name is kept at most while no update is held: the
 * update moving its traffic is on its way within milliseconds.
 */
const RETIRE_GRACE_MS = 2000;

interface Held<M, T> {
  readonly message: M;
  readonly value: T;
}

interface TypeState {
  readonly watch: Watch<Held<unknown, unknown>>;
  readonly schema: DescMessage;
  /** Names subscribed (RDS, EDS); the wildcard types keep "*". */
  readonly names: Set<string>;
  /** Names of the resources held now (a response may come for an older request). */
  readonly held: Set<string>;
  synced: boolean;
  /** What /config_dump shows of a resource (secrets without their keys). */
  readonly dumped?: (m: unknown) => unknown;
}

export interface XdsConfigStatus {
  readonly typeUrl: string;
  readonly version: string;
  readonly synced: boolean;
  readonly resources: number;
  readonly lastNack?: string;
  /** An accepted update held back until these clusters are warm. */
  readonly waitingForClusters?: readonly string[];
}

/** Subscribes `engine` to LDS/RDS/CDS/EDS on `client`; `onSynced` runs once every type answered. */
export class XdsConfig {
  readonly #engine: Engine;
  readonly #log: Logger;
  readonly #types = new Map<string, TypeState>();
  #syncedOnce = false;
  readonly #onSynced: () => void;
  readonly #gate: WarmingGate;
  /** Clusters CDS removed that the applied listeners or routes still name, and when: kept a while. */
  readonly #retiring = new Map<string, number>();
  #retireTimer: NodeJS.Timeout | undefined;

  constructor(
    client: XdsClient,
    engine: Engine,
    o: {
      logger: Logger;
      onSynced: () => void;
      /** Runs after each accepted listener change (a gateway opens and closes its ports). */
      onListeners?: () => void;
    },
  ) {
    this.#engine = engine;
    this.#log = o.logger;
    this.#onSynced = o.onSynced;
    this.#gate = new WarmingGate({
      logger: o.logger,
      hasEndpoints: (n) => engine.hasEndpoints(n),
      edsNameOf: (n) => engine.cluster(n)?.config.edsName,
      known: (n) => engine.cluster(n) !== undefined,
      onReleased: () => {
        this.#retire();
        this.#checkSynced();
      },
    });
    this.#watch(
      client,
      LISTENER_TYPE_URL,
      ListenerSchema,
      convertListener,
      (m) => m.name,
      (u, r) =>
        this.#gate.gate<ListenerModel>(
          LISTENER_TYPE_URL,
          u,
          r,
          (l) => listenerClusters(l),
          (u2, r2) => {
            engine.applyListeners(u2, r2);
            this.#retire();
            this.#resubscribe(ROUTE_CONFIGURATION_TYPE_URL, engine.routeNames());
            this.#resubscribe(SECRET_TYPE_URL, engine.secretNames());
            o.onListeners?.();
          },
        ),
      ['*'],
    );
    this.#watch(
      client,
      CLUSTER_TYPE_URL,
      ClusterSchema,
      convertCluster,
      (m) => m.name,
      (u, r) => {
        const named = engine.namedClusters();
        const removed = r.filter((n) => !named.has(n));
        const now = Date.now();
        for (const n of r) if (named.has(n)) this.#retiring.set(n, now);
        for (const n of u.keys()) this.#retiring.delete(n);
        if (removed.length < r.length)
          this.#log.debug(
            { clusters: r.filter((n) => named.has(n)) },
            'removed clusters kept while the applied routes still name them',
          );
        this.#gate.startWarming(u, removed);
        engine.applyClusters(u, removed);
        this.#resubscribe(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, engine.endpointNames());
        this.#gate.clustersApplied();
        this.#retire();
      },
      ['*'],
      // Inline client certificate keys never reach /config_dump either.
      { dumped: redactCluster },
    );
    this.#watch(
      client,
      ROUTE_CONFIGURATION_TYPE_URL,
      RouteConfigurationSchema,
      convertRouteConfiguration,
      (m) => m.name,
      (u, r) =>
        this.#gate.gate<RouteTable>(
          ROUTE_CONFIGURATION_TYPE_URL,
          u,
          r,
          (t) => routeTableClusters(t),
          (u2, r2) => {
            engine.applyRoutes(u2, r2);
            this.#retire();
          },
        ),
      [],
    );
    this.#watch(
      client,
      CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
      ClusterLoadAssignmentSchema,
      convertEndpoints,
      (m) => m.clusterName,
      (u, r) => {
        // A kept cluster keeps its endpoints, which the server no longer has.
        const kept = new Set(
          [...this.#retiring.keys()].map((n) => engine.cluster(n)?.config.edsName),
        );
        engine.applyEndpoints(u, kept.size > 0 ? r.filter((n) => !kept.has(n)) : r);
        // An answer, even "no such resource", ends the warming (Envoy: warm with no hosts).
        this.#gate.endpointsAnswered([...u.keys(), ...r]);
      },
      [],
    );
    this.#watch(
      client,
      SECRET_TYPE_URL,
      SecretSchema,
      convertSecret,
      (m) => m.name,
      (u, r) => engine.applySecrets(u, r),
      [],
      // Servers send only the secrets asked for; private keys never reach /config_dump.
      { sotwFullState: false, dumped: redactSecret },
    );
  }

  /** Per type: version, whether it answered, resource count, the last NACK's reason. */
  status(): XdsConfigStatus[] {
    return [...this.#types].map(([typeUrl, t]) => {
      const lastNack = t.watch.lastError();
      const waitingForClusters = this.#gate.waitingFor(typeUrl);
      return {
        typeUrl,
        version: t.watch.version(),
        synced: t.synced,
        resources: t.watch.resources().size,
        ...(lastNack !== undefined ? { lastNack } : {}),
        ...(waitingForClusters ? { waitingForClusters } : {}),
      };
    });
  }

  /** The accepted resources of one type as protobuf JSON (for /config_dump). */
  dump(typeUrl: string): unknown[] {
    const t = this.#types.get(typeUrl);
    if (!t) return [];
    return [...t.watch.resources().values()].map((h) =>
      toJson(t.schema, (t.dumped?.(h.message) ?? h.message) as MessageShape<DescMessage>, {
        registry: apiRegistry,
      }),
    );
  }

  #watch<D extends DescMessage, T>(
    client: XdsClient,
    typeUrl: string,
    schema: D,
    convert: (m: MessageShape<D>) => Converted<T>,
    nameOf: (m: MessageShape<D>) => string,
    apply: (updated: Map<string, T>, removed: readonly string[]) => void,
    names: readonly string[],
    extra: {
      sotwFullState?: boolean;
      dumped?: (m: MessageShape<D>) => MessageShape<D>;
    } = {},
  ): void {
    const watch = client.watch<Held<MessageShape<D>, T>>(
      typeUrl,
      {
        decode: protoDecoder(schema, (m) => {
          const c = convert(m);
          return c.ok ? { ok: true, value: { message: m, value: c.value } } : c;
        }),
        resourceName: (h) => nameOf(h.message),
        ...(extra.sotwFullState !== undefined ? { sotwFullState: extra.sotwFullState } : {}),
        onChange: (change: ResourceChange<Held<MessageShape<D>, T>>) => {
          const updated = new Map<string, T>();
          for (const [name, h] of change.updated) updated.set(name, h.value);
          apply(updated, change.removed);
          this.#log.info(
            {
              type: typeUrl.split('.').pop(),
              version: change.version,
              updated: updated.size,
              removed: change.removed.length,
            },
            'configuration accepted',
          );
          // A listener is warm once the secrets it names are here (as Envoy warms listeners on
          // SDS): a SotW response to an earlier request, without them, does not count.
          const t = this.#types.get(typeUrl)!;
          for (const name of change.updated.keys()) t.held.add(name);
          for (const name of change.removed) t.held.delete(name);
          t.synced = typeUrl !== SECRET_TYPE_URL || [...t.names].every((n) => t.held.has(n));
          this.#checkSynced();
        },
      },
      names,
    );
    this.#types.set(typeUrl, {
      watch: watch as Watch<Held<unknown, unknown>>,
      schema,
      names: new Set(names),
      held: new Set<string>(),
      synced: false,
      ...(extra.dumped ? { dumped: extra.dumped as (m: unknown) => unknown } : {}),
    });
  }

  /** Envoy's cluster_manager.warming_clusters gauge, as Prometheus text. */
  warmingText(): string {
    return this.#gate.text();
  }

  /** Stops the warming and retiring timers (the client is closing). */
  close(): void {
    this.#gate.close();
    clearTimeout(this.#retireTimer);
  }

  /**
   * Removes the kept clusters the applied listeners and routes no longer name, and those kept
   * RETIRE_GRACE_MS already while no update is held (their routes keep naming them on purpose);
   * looks again when the next kept one's grace ends.
   */
  #retire(): void {
    clearTimeout(this.#retireTimer);
    this.#retireTimer = undefined;
    if (this.#retiring.size === 0) return;
    const { gone, nextInMs } = decideRetiring(
      this.#retiring,
      this.#engine.namedClusters(),
      this.#gate.holding(),
      Date.now(),
      RETIRE_GRACE_MS,
    );
    if (nextInMs !== undefined) {
      this.#retireTimer = setTimeout(() => this.#retire(), nextInMs);
      this.#retireTimer.unref();
    }
    if (gone.length === 0) return;
    for (const n of gone) this.#retiring.delete(n);
    this.#log.debug({ clusters: gone }, 'kept clusters removed');
    this.#engine.applyClusters(new Map(), gone);
    this.#resubscribe(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, this.#engine.endpointNames());
  }

  #resubscribe(typeUrl: string, want: readonly string[]): void {
    const t = this.#types.get(typeUrl);
    if (!t) return;
    const wanted = new Set(want);
    const add = want.filter((n) => !t.names.has(n));
    const drop = [...t.names].filter((n) => !wanted.has(n));
    for (const n of add) t.names.add(n);
    for (const n of drop) t.names.delete(n);
    // Names asked for now are not synced until a response covers them (an empty set counted as
    // synced before the listeners named their secrets or routes: ready before the certificate).
    if (add.length > 0) {
      t.synced = false;
      t.watch.subscribe(add);
    }
    if (drop.length > 0) t.watch.unsubscribe(drop);
    // Nothing to ask for counts as synced (a listener set without RDS, clusters without EDS).
    if (want.length === 0) {
      t.synced = true;
      this.#checkSynced();
    }
  }

  #checkSynced(): void {
    if (this.#syncedOnce) return;
    const l = this.#types.get(LISTENER_TYPE_URL);
    const c = this.#types.get(CLUSTER_TYPE_URL);
    const r = this.#types.get(ROUTE_CONFIGURATION_TYPE_URL);
    const e = this.#types.get(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL);
    const s = this.#types.get(SECRET_TYPE_URL);
    if (!l?.synced || !c?.synced || this.#gate.holding()) return;
    if (this.#engine.routeNames().length > 0 && !r?.synced) return;
    if (this.#engine.endpointNames().length > 0 && !e?.synced) return;
    if (this.#engine.secretNames().length > 0 && !s?.synced) return;
    this.#syncedOnce = true;
    this.#onSynced();
  }
}
