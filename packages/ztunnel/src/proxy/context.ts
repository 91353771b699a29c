// What every proxy set of one ztunnel shares: the state store, the identity manager, one pooled
// HBONE client, metrics, the access log, and which socket ops reach the network from each pod IP.
import type { Meter } from '@opentelemetry/api';
import type { Logger } from '@trellis/core';
import { ConnectionBudget, HboneClient, type SocketFactory } from '@trellis/hbone';
import type { AccessLogSink } from '../access-log/connection-record.js';
import type { IdentityManager } from '../identity/identity-manager.js';
import type { TrafficMetrics } from '../metrics.js';
import type { StateStore } from '../state/store.js';
import { hostSocketOps, type SocketOps } from './socket-ops.js';

export interface ProxySettings {
  /** Port of the HBONE servers this ztunnel dials (peers' inbound). Default 15008. */
  readonly hbonePort: number;
  /** The network this node is in ('' default). */
  readonly network: string;
  /** Inbound HBONE connections without a stream are closed after this long. Default 10 min. */
  readonly hboneIdleTimeoutMs: number;
  /** Cap on inbound HBONE connections across every proxy set of this process. Default 20,000. */
  readonly maxHboneConnections: number;
}

export interface ZtunnelContext {
  readonly store: StateStore;
  readonly identity: IdentityManager;
  /** One pooled client for all pods; its sockets come from the ops registered for the source IP. */
  readonly hbone: HboneClient;
  readonly traffic: TrafficMetrics;
  readonly accessLog: AccessLogSink;
  readonly logger: Logger;
  readonly settings: ProxySettings;
  /** Meter of the HBONE client and servers (hbone_* metrics), when metrics are on. */
  readonly meter?: Meter;
  /** The cap on inbound HBONE connections, shared by every proxy set's HBONE server. */
  readonly inboundBudget: ConnectionBudget;
  /** Pod IP -> how to open sockets from it (registered by each pod's proxy set). */
  readonly sourceSockets: Map<string, { readonly ops: SocketOps; readonly mark?: number }>;
  close(): Promise<void>;
}

export interface ZtunnelContextOptions {
  readonly store: StateStore;
  readonly identity: IdentityManager;
  readonly traffic: TrafficMetrics;
  readonly accessLog: AccessLogSink;
  readonly logger: Logger;
  readonly settings?: Partial<ProxySettings>;
  readonly meter?: Meter;
}

export function createZtunnelContext(o: ZtunnelContextOptions): ZtunnelContext {
  const sourceSockets = new Map<string, { ops: SocketOps; mark?: number }>();
  // Sockets bound to a pod IP are opened through that pod's ops (inside its netns, marked);
  // unbound ones (all-workloads mode) in ztunnel's own namespace.
  const connectSocket: SocketFactory = (req) => {
    const via = req.localAddress === undefined ? undefined : sourceSockets.get(req.localAddress);
    const ops = via?.ops ?? hostSocketOps;
    return ops.connect({
      host: req.host,
      port: req.port,
      signal: req.signal,
      ...(req.localAddress !== undefined ? { bindIp: req.localAddress } : {}),
      ...(via?.mark !== undefined ? { mark: via.mark } : {}),
    });
  };
  const hbone = new HboneClient({
    connectSocket,
    logger: o.logger,
    ...(o.meter ? { meter: o.meter } : {}),
  });
  const settings: ProxySettings = {
    hbonePort: 15008,
    network: '',
    hboneIdleTimeoutMs: 10 * 60_000,
    maxHboneConnections: 20_000,
    ...o.settings,
  };
  return {
    store: o.store,
    identity: o.identity,
    hbone,
    traffic: o.traffic,
    accessLog: o.accessLog,
    logger: o.logger,
    settings,
    ...(o.meter ? { meter: o.meter } : {}),
    inboundBudget: new ConnectionBudget(settings.maxHboneConnections),
    sourceSockets,
    close: () => hbone.close(),
  };
}
