// The L7 engine: holds the accepted configuration (listeners, route tables, clusters, endpoints),
// the clusters' run-time state, and serves connections a role hands it (the waypoint: HBONE
// tunnels; a gateway: sockets from its listeners). One engine, several roles: the role decides where
// connections come from, who the peer is and how upstream endpoints are reached (Connector).
import type { Duplex } from 'node:stream';
import type { Meter } from '@opentelemetry/api';
import type { Logger } from '@trellis/core';
import { Http1Session } from './downstream/http1-session.js';
import { Http2Downstream } from './downstream/http2-session.js';
import { sniffHttp } from './downstream/sniff.js';
import { corsFilter } from './filters/cors-filter.js';
import { faultFilter } from './filters/fault-filter.js';
import { jwtFilter } from './filters/jwt-filter.js';
import { rbacFilter } from './filters/rbac-filter.js';
import { JwksCache } from './jwt/jwks-cache.js';
import { selectChain, type ChainFacts } from './listener-select.js';
import type { ClusterConfig, EndpointSet } from './model/cluster.js';
import type { FilterChainModel, HttpManagerConfig, ListenerModel } from './model/listener.js';
import type { RouteTable } from './model/route.js';
import type { SecretModel } from './model/secret.js';
import type {
  ConnectionInfo,
  EngineServices,
  HttpChain,
  HttpFilterRuntime,
} from './proxy/context.js';
import { MirrorDrops } from './proxy/mirror-drops.js';
import { evaluateRbac } from './rbac/compile.js';
import { authzInputForConnection } from './tcp/connection-authz.js';
import { proxyTcp } from './tcp/tcp-proxy.js';
import type { AccessLog } from './telemetry/access-log.js';
import { createObserver } from './telemetry/observer.js';
import { RequestMetrics } from './telemetry/request-metrics.js';
import { createTcpMetrics, type TcpMetrics } from './telemetry/tcp-metrics.js';
import type { RequestTracer } from './telemetry/tracing.js';
import { ClusterRuntime } from './upstream/cluster.js';
import { listenerClusters, routeTableClusters } from './warming.pure.js';
import type { Connector } from './upstream/stream.js';

export interface EngineOptions {
  readonly connector: Connector;
  readonly logger: Logger;
  readonly hostname: string;
  /** Istio reporter label: "waypoint" or "source" (gateways). */
  readonly reporter: string;
  readonly accessLog?: AccessLog;
  readonly tracer?: RequestTracer;
  readonly jwks?: JwksCache;
  readonly meter?: Meter;
  readonly random?: () => number;
}

/** A filter chain ready to serve: the model plus built HTTP filters. */
export interface ChainRuntime {
  readonly name: string;
  readonly model: FilterChainModel;
  readonly http?: HttpChain;
}

interface ListenerRuntime {
  readonly model: ListenerModel;
  readonly chains: readonly { item: ChainRuntime; match: FilterChainModel['match'] }[];
  readonly defaultChain?: ChainRuntime;
}

/** What a role's protocol detection read before choosing the chain (given to `serve`). */
export interface Detected {
  readonly initial: Buffer | undefined;
  /** HTTP chains: the codec the bytes showed. */
  readonly codec?: 'http1' | 'http2';
}

/** A session the engine can drain (HTTP/1.1 connection or HTTP/2 session). */
interface Drainable {
  drain(): void;
}

export class Engine {
  readonly metrics = new RequestMetrics();
  readonly jwks: JwksCache;
  readonly services: EngineServices;
  readonly #o: EngineOptions;
  readonly #tcpMetrics: TcpMetrics;
  readonly #listeners = new Map<string, ListenerRuntime>();
  readonly #routes = new Map<string, RouteTable>();
  readonly #clusters = new Map<string, ClusterRuntime>();
  readonly #endpoints = new Map<string, EndpointSet>();
  readonly #secrets = new Map<string, SecretModel>();
  readonly #sessions = new Set<Drainable>();
  #draining = false;

  constructor(o: EngineOptions) {
    this.#o = o;
    this.jwks = o.jwks ?? new JwksCache({ logger: o.logger });
    this.#tcpMetrics = createTcpMetrics(o.meter);
    const random = o.random ?? Math.random;
    const cluster = (name: string) => this.#clusters.get(name);
    this.services = {
      cluster,
      logger: o.logger,
      hostname: o.hostname,
      random,
      telemetry: createObserver({
        reporter: o.reporter,
        metrics: this.metrics,
        ...(o.accessLog ? { accessLog: o.accessLog } : {}),
        ...(o.tracer ? { tracer: o.tracer } : {}),
        cluster,
      }),
      draining: () => this.#draining,
      mirrorDrops: new MirrorDrops(o.logger),
    };
  }

  // ---- configuration (each call applies one accepted xDS response) ----

  applyListeners(updated: ReadonlyMap<string, ListenerModel>, removed: readonly string[]): void {
    for (const name of removed) this.#listeners.delete(name);
    for (const [name, model] of updated) this.#listeners.set(name, this.#buildListener(model));
  }

  applyRoutes(updated: ReadonlyMap<string, RouteTable>, removed: readonly string[]): void {
    for (const name of removed) this.#routes.delete(name);
    for (const [name, table] of updated) this.#routes.set(name, table);
  }

  applyClusters(updated: ReadonlyMap<string, ClusterConfig>, removed: readonly string[]): void {
    // Requests already sent to a removed cluster finish on its connections.
    for (const name of removed) {
      this.#clusters.get(name)?.drain();
      this.#clusters.delete(name);
    }
    for (const [name, cfg] of updated) {
      const existing = this.#clusters.get(name);
      if (existing) existing.update(cfg);
      else {
        const c = new ClusterRuntime(cfg, this.#o.connector, this.#o.logger);
        this.#clusters.set(name, c);
        const eds = cfg.edsName !== undefined ? this.#endpoints.get(cfg.edsName) : undefined;
        if (eds) c.setEndpoints(eds);
      }
    }
  }

  applyEndpoints(updated: ReadonlyMap<string, EndpointSet>, removed: readonly string[]): void {
    for (const name of removed) {
      this.#endpoints.delete(name);
      for (const c of this.#clusters.values())
        if (c.config.edsName === name) c.setEndpoints({ clusterName: name, endpoints: [] });
    }
    for (const [name, set] of updated) {
      this.#endpoints.set(name, set);
      for (const c of this.#clusters.values()) if (c.config.edsName === name) c.setEndpoints(set);
    }
  }

  applySecrets(updated: ReadonlyMap<string, SecretModel>, removed: readonly string[]): void {
    for (const name of removed) this.#secrets.delete(name);
    for (const [name, secret] of updated) this.#secrets.set(name, secret);
  }

  /** An SDS secret by name (a new object for each accepted version). */
  secret(name: string): SecretModel | undefined {
    return this.#secrets.get(name);
  }

  /** SDS secret names the listeners' TLS chains refer to (what to ask SDS for). */
  secretNames(): string[] {
    const out = new Set<string>();
    for (const l of this.#listeners.values())
      for (const c of [...l.model.chains, ...(l.model.defaultChain ? [l.model.defaultChain] : [])])
        for (const n of c.tls?.sdsCertificates ?? []) out.add(n);
    return [...out].sort();
  }

  /** A listener's accepted model (its address and chains). */
  listener(name: string): ListenerModel | undefined {
    return this.#listeners.get(name)?.model;
  }

  /** RouteConfiguration names the listeners refer to (what to ask RDS for). */
  routeNames(): string[] {
    const out = new Set<string>();
    for (const l of this.#listeners.values()) {
      for (const c of [
        ...l.chains.map((x) => x.item),
        ...(l.defaultChain ? [l.defaultChain] : []),
      ]) {
        const name = c.http?.config.routeConfigName;
        if (name !== undefined) out.add(name);
      }
    }
    return [...out].sort();
  }

  /** Every cluster the applied listeners and route tables send requests or connections to. */
  namedClusters(): Set<string> {
    const out = new Set<string>();
    for (const l of this.#listeners.values()) listenerClusters(l.model, out);
    for (const t of this.#routes.values()) routeTableClusters(t, out);
    return out;
  }

  /** ClusterLoadAssignment names the clusters need (what to ask EDS for). */
  endpointNames(): string[] {
    const out = new Set<string>();
    for (const c of this.#clusters.values())
      if (c.config.edsName !== undefined) out.add(c.config.edsName);
    return [...out].sort();
  }

  /** Whether EDS answered for this ClusterLoadAssignment name. */
  hasEndpoints(edsName: string): boolean {
    return this.#endpoints.has(edsName);
  }

  cluster(name: string): ClusterRuntime | undefined {
    return this.#clusters.get(name);
  }

  clusters(): ReadonlyMap<string, ClusterRuntime> {
    return this.#clusters;
  }

  listenerNames(): string[] {
    return [...this.#listeners.keys()];
  }

  /** The port a listener's address names (0 when it has none). */
  listenerPort(name: string): number {
    return this.#listeners.get(name)?.model.address?.port ?? 0;
  }

  // ---- serving ----

  /** The filter chain of `listener` for a connection with these facts (Envoy's selection). */
  selectChain(listener: string, facts: ChainFacts): ChainRuntime | undefined {
    const l = this.#listeners.get(listener);
    if (!l) return undefined;
    return selectChain(l.chains, facts) ?? l.defaultChain;
  }

  /**
   * Serves one downstream connection on `chain`: network RBAC, then HTTP (HTTP/1.1 or h2c, sniffed
   * when the codec is auto) or the TCP proxy. Returns false when network RBAC refused it (the
   * caller closes it). `detected`: the role already read the first bytes to pick the chain.
   */
  serve(
    chain: ChainRuntime,
    socket: Duplex,
    conn: ConnectionInfo,
    scheme = 'http',
    detected?: Detected,
  ): boolean {
    if (!this.admits(chain, conn)) return false;
    const t = chain.model.terminal;
    if (t.kind === 'tcp') {
      proxyTcp(socket, detected?.initial, t.tcp, conn, {
        cluster: (n) => this.#clusters.get(n),
        connector: this.#o.connector,
        metrics: this.#tcpMetrics,
        ...(this.#o.accessLog ? { accessLog: this.#o.accessLog } : {}),
        reporter: this.#o.reporter,
        random: this.services.random,
        logger: this.#o.logger,
      }).catch((err: Error) => this.#o.logger.warn({ err }, 'TCP proxy failed'));
      return true;
    }
    const http = chain.http!;
    const start = (kind: 'http1' | 'http2', initial: Buffer | undefined): void => {
      // A session may close while it is being built (a local reply to a first request with
      // Connection: close, served from the sniffed bytes): it is then never tracked.
      let closed = false;
      const onClose = () => {
        closed = true;
        if (session) this.#sessions.delete(session);
      };
      // eslint-disable-next-line prefer-const
      let session: Drainable | undefined;
      session =
        kind === 'http2'
          ? new Http2Downstream(socket, conn, http, this.services, {
              scheme,
              ...(initial ? { initial } : {}),
              onClose,
            })
          : new Http1Session(socket, conn, http, this.services, {
              scheme,
              ...(initial ? { initial } : {}),
              onClose,
            });
      if (closed) return;
      this.#sessions.add(session);
      if (this.#draining) session.drain();
    };
    const codec = http.config.codec;
    if (detected?.codec) start(detected.codec, detected.initial);
    else if (codec === 'http1') start('http1', undefined);
    else if (codec === 'http2') start('http2', undefined);
    else sniffHttp(socket, (kind, initial) => start(kind, initial));
    return true;
  }

  /** Network RBAC of the chain (envoy.filters.network.rbac) for this connection. */
  admits(chain: ChainRuntime, conn: ConnectionInfo): boolean {
    for (const rbac of chain.model.networkRbac) {
      const input = authzInputForConnection(conn);
      if (rbac.shadow) evaluateRbac(rbac.shadow, input);
      if (rbac.rules && rbac.rules.action !== 'log' && !evaluateRbac(rbac.rules, input).allowed) {
        this.#o.logger.debug(
          { chain: chain.name, peer: conn.peerPrincipal },
          'connection denied by network RBAC',
        );
        return false;
      }
    }
    return true;
  }

  /**
   * Graceful drain: HTTP/1.1 connections close after their current response (idle ones now), HTTP/2
   * sessions get GOAWAY, idle upstream connections close.
   */
  drain(): void {
    this.#draining = true;
    for (const s of this.#sessions) s.drain();
    for (const c of this.#clusters.values()) c.closeIdle();
  }

  get openSessions(): number {
    return this.#sessions.size;
  }

  close(): void {
    for (const c of this.#clusters.values()) c.close();
    this.#clusters.clear();
    this.#o.accessLog?.flush();
  }

  #buildListener(model: ListenerModel): ListenerRuntime {
    const build = (c: FilterChainModel): ChainRuntime => {
      if (c.terminal.kind !== 'http') return { name: c.name, model: c };
      return { name: c.name, model: c, http: this.#httpChain(c.name, c.terminal.http) };
    };
    return {
      model,
      chains: model.chains.map((c) => ({ item: build(c), match: c.match })),
      ...(model.defaultChain ? { defaultChain: build(model.defaultChain) } : {}),
    };
  }

  #httpChain(name: string, config: HttpManagerConfig): HttpChain {
    const filters: HttpFilterRuntime[] = [];
    for (const f of config.filters) {
      switch (f.kind) {
        case 'rbac':
          filters.push(rbacFilter(f, this.#o.logger));
          break;
        case 'jwt':
          filters.push(jwtFilter(f, this.jwks));
          break;
        case 'fault':
          filters.push(faultFilter(f, this.services.random));
          break;
        case 'cors':
          filters.push(corsFilter(f));
          break;
        case 'router':
          break;
      }
    }
    const inline = config.routeConfig;
    const routeName = config.routeConfigName;
    return {
      name,
      config,
      filters,
      routes: inline
        ? () => inline
        : () => (routeName !== undefined ? this.#routes.get(routeName) : undefined),
    };
  }
}
