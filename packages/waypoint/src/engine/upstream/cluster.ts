// A cluster at run time: its hosts (from EDS or static endpoints), the balancer, outlier
// detection, connection pools and circuit breakers, and its counters. Requests get an upstream
// stream with acquire(): an idle connection, a new one, or a place in the pending queue; past
// max_pending_requests (or max_requests) they overflow and the exchange answers 503 (flag UO).
import type { Duplex } from 'node:stream';
import type { Logger } from '@trellis/core';
import type { ClusterConfig, EndpointSet } from '../model/cluster.js';
import { Balancer, type PickContext } from './balancer.js';
import { H1Connection } from './h1-connection.js';
import { H2Session } from './h2-session.js';
import { Host, hostKey } from './host.js';
import { OutlierDetector } from './outlier.js';
import { originalDstEndpoint } from './original-dst.js';
import { UpstreamError, type Connector, type UpstreamStream } from './stream.js';

export interface ClusterStats {
  upstream_rq_total: number;
  upstream_rq_pending_overflow: number;
  upstream_rq_retry: number;
  upstream_rq_retry_overflow: number;
  upstream_cx_total: number;
  upstream_cx_connect_fail: number;
  upstream_cx_overflow: number;
  upstream_rq_timeout: number;
}

type Waiter = {
  readonly protocol: 'http1' | 'http2';
  readonly cb: (err: UpstreamError | undefined, stream?: UpstreamStream) => void;
  done: boolean;
};

/** How often a draining cluster looks for connections it can close. */
const DRAIN_CHECK_MS = 1000;

export class ClusterRuntime {
  config: ClusterConfig;
  readonly #connector: Connector;
  readonly #log: Logger | undefined;
  #hosts: Host[] = [];
  readonly #byKey = new Map<string, Host>();
  readonly balancer: Balancer;
  #outlier: OutlierDetector | undefined;
  readonly #waiting = new Map<Host, Waiter[]>();
  readonly stats: ClusterStats = {
    upstream_rq_total: 0,
    upstream_rq_pending_overflow: 0,
    upstream_rq_retry: 0,
    upstream_rq_retry_overflow: 0,
    upstream_cx_total: 0,
    upstream_cx_connect_fail: 0,
    upstream_cx_overflow: 0,
    upstream_rq_timeout: 0,
  };
  /** Circuit breaker gauges. */
  pending = 0;
  activeRequests = 0;
  activeRetries = 0;
  #connections = 0;
  #closed = false;
  #draining = false;
  #reaper: NodeJS.Timeout;

  constructor(config: ClusterConfig, connector: Connector, logger?: Logger) {
    this.config = config;
    this.#connector = connector;
    this.#log = logger;
    this.balancer = new Balancer(config);
    this.#setOutlier();
    if (config.staticEndpoints) this.setEndpoints(config.staticEndpoints);
    this.#reaper = setInterval(
      () => this.#reapIdle(),
      Math.min(60_000, Math.max(1_000, config.idleTimeoutMs / 2)),
    );
    this.#reaper.unref();
  }

  get hosts(): readonly Host[] {
    return this.#hosts;
  }

  get connections(): number {
    return this.#connections;
  }

  get outlier(): OutlierDetector | undefined {
    return this.#outlier;
  }

  /** A new Cluster resource with the same name: keeps hosts and connections. */
  update(config: ClusterConfig): void {
    const outlierChanged = JSON.stringify(config.outlier) !== JSON.stringify(this.config.outlier);
    this.config = config;
    this.balancer.setConfig(config);
    this.balancer.setHosts(this.#hosts);
    if (outlierChanged) this.#setOutlier();
    if (config.staticEndpoints) this.setEndpoints(config.staticEndpoints);
    if (config.originalDst) this.#refreshOriginalDst();
  }

  setEndpoints(set: EndpointSet): void {
    const next: Host[] = [];
    const seen = new Set<string>();
    for (const e of set.endpoints) {
      const key = hostKey(e);
      if (seen.has(key)) continue;
      seen.add(key);
      let h = this.#byKey.get(key);
      if (h) h.endpoint = e;
      else {
        h = new Host(e);
        this.#byKey.set(key, h);
      }
      next.push(h);
    }
    for (const h of this.#hosts) if (!seen.has(h.key)) this.#retire(h, 'the endpoint was removed');
    this.#hosts = next;
    this.balancer.setHosts(next);
  }

  pick(ctx: PickContext): Host | undefined {
    if (this.config.originalDst) return this.#originalDst(ctx.destination);
    return this.balancer.pick(ctx);
  }

  /** ORIGINAL_DST: the host for the downstream's destination, made on first use. */
  #originalDst(d: PickContext['destination']): Host | undefined {
    if (!d) return undefined;
    const e = originalDstEndpoint(this.config, d.destinationAddress, d.destinationPort);
    if (!e) return undefined;
    const existing = this.#byKey.get(hostKey(e));
    if (existing) return existing;
    const h = new Host(e);
    this.#byKey.set(h.key, h);
    this.#hosts = [...this.#hosts, h];
    return h;
  }

  /** A new ORIGINAL_DST table: hosts it no longer lists are retired, the others updated. */
  #refreshOriginalDst(): void {
    const keep: Host[] = [];
    for (const h of this.#hosts) {
      const e = originalDstEndpoint(this.config, h.endpoint.address, h.endpoint.port);
      if (e) {
        h.endpoint = e;
        keep.push(h);
      } else this.#retire(h, 'the destination is no longer served');
    }
    this.#hosts = keep;
  }

  #retire(h: Host, why: string): void {
    h.live = false;
    this.#byKey.delete(h.key);
    for (const c of h.idle) c.close();
    for (const s of h.h2) if (s.active === 0) s.close();
    for (const w of this.#waiting.get(h) ?? [])
      this.#reject(w, new UpstreamError('connect-failure', why));
    this.#waiting.delete(h);
  }

  /**
   * An upstream stream on `host`. The callback runs once: with a stream, or with an error
   * ('overflow' when the circuit breakers refuse, 'connect-failure' when no connection could be made).
   * Returns a function that withdraws the request while it waits.
   */
  acquire(
    host: Host,
    protocol: 'http1' | 'http2',
    cb: (err: UpstreamError | undefined, stream?: UpstreamStream) => void,
  ): () => void {
    const limits = this.config.limits;
    if (this.activeRequests >= limits.maxRequests) {
      this.stats.upstream_rq_pending_overflow++;
      cb(new UpstreamError('overflow', `max_requests (${limits.maxRequests}) reached`));
      return noop;
    }
    const ready = this.#ready(host, protocol);
    if (ready) {
      cb(undefined, ready);
      return noop;
    }
    if (this.pending >= limits.maxPendingRequests) {
      this.stats.upstream_rq_pending_overflow++;
      cb(
        new UpstreamError(
          'overflow',
          `max_pending_requests (${limits.maxPendingRequests}) reached`,
        ),
      );
      return noop;
    }
    const w: Waiter = { protocol, cb, done: false };
    this.pending++;
    const list = this.#waiting.get(host) ?? [];
    list.push(w);
    this.#waiting.set(host, list);
    const needConnect = protocol === 'http1' || host.connecting === 0;
    if (needConnect) {
      if (this.#connections < limits.maxConnections) this.#connect(host, protocol);
      else this.stats.upstream_cx_overflow++;
    }
    return () => {
      if (w.done) return;
      w.done = true;
      this.pending--;
      const l = this.#waiting.get(host);
      const i = l ? l.indexOf(w) : -1;
      if (i !== -1) l!.splice(i, 1);
    };
  }

  /**
   * The cluster was removed while requests may still be using it: those go on (a request waiting
   * for a connection gets one), idle connections close now and busy ones once their exchanges are
   * over; when none is left the cluster closes. close() instead ends everything at once.
   */
  drain(): void {
    if (this.#closed || this.#draining) return;
    this.#draining = true;
    clearInterval(this.#reaper);
    this.#reaper = setInterval(() => this.#drainStep(), DRAIN_CHECK_MS);
    this.#reaper.unref();
    this.#drainStep();
  }

  #drainStep(): void {
    for (const h of this.#hosts) {
      if (this.#waiting.get(h)?.some((w) => !w.done)) continue;
      for (const c of h.idle.splice(0)) c.close();
      for (const s of [...h.h2]) if (s.active === 0) s.close();
    }
    if (this.#connections === 0 && this.pending === 0) this.close();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#reaper);
    this.#outlier?.close();
    for (const h of this.#hosts) {
      for (const c of [...h.h1]) c.close();
      for (const s of [...h.h2]) s.close();
    }
    for (const [, list] of this.#waiting)
      for (const w of list)
        this.#reject(w, new UpstreamError('connect-failure', 'the cluster was removed'));
    this.#waiting.clear();
  }

  /** Closes idle connections (drain): new requests open fresh ones. */
  closeIdle(): void {
    for (const h of this.#hosts) {
      for (const c of h.idle.splice(0)) c.close();
      for (const s of [...h.h2]) if (s.active === 0) s.close();
    }
  }

  #setOutlier(): void {
    this.#outlier?.close();
    this.#outlier = this.config.outlier
      ? new OutlierDetector({
          config: this.config.outlier,
          hosts: () => this.#hosts,
          onChange: (host, event, reason) => {
            this.balancer.invalidate();
            this.#log?.info(
              { cluster: this.config.name, host: host.address, reason },
              `outlier detection: host ${event}`,
            );
          },
        })
      : undefined;
  }

  #ready(host: Host, protocol: 'http1' | 'http2'): UpstreamStream | undefined {
    if (protocol === 'http1') {
      while (host.idle.length > 0) {
        const c = host.idle.pop()!;
        if (!c.closed) return c;
      }
      return undefined;
    }
    for (const s of host.h2) if (s.hasRoom) return s.stream();
    return undefined;
  }

  /**
   * An HTTP/1.1 connection of its own, never pooled, for a request that may turn it into a byte
   * stream (an HTTP Upgrade). Counts against max_connections until it is handed over or closed.
   */
  acquireDedicated(
    host: Host,
    cb: (err: UpstreamError | undefined, stream?: UpstreamStream) => void,
  ): () => void {
    const limits = this.config.limits;
    if (this.activeRequests >= limits.maxRequests || this.#connections >= limits.maxConnections) {
      this.stats.upstream_cx_overflow++;
      cb(new UpstreamError('overflow', `max_connections (${limits.maxConnections}) reached`));
      return noop;
    }
    let cancelled = false;
    host.connecting++;
    this.#connections++;
    this.stats.upstream_cx_total++;
    this.#dial(host).then(
      (socket) => {
        host.connecting--;
        this.#outlier?.reportLocalSuccess(host);
        if (cancelled || this.#closed) {
          socket.destroy();
          this.#connections--;
          return;
        }
        const conn = new H1Connection(socket, host.address, {
          idle: (c) => c.close(),
          closed: () => this.#connections--,
        });
        cb(undefined, conn);
      },
      (err: Error) => {
        host.connecting--;
        this.#connections--;
        this.stats.upstream_cx_connect_fail++;
        this.#outlier?.reportLocalFailure(host);
        if (!cancelled) cb(new UpstreamError('connect-failure', err.message));
      },
    );
    return () => {
      cancelled = true;
    };
  }

  /** Opens a byte stream to the host within the cluster's connect timeout. */
  #dial(host: Host): Promise<Duplex> {
    const ac = new AbortController();
    const timer = setTimeout(
      () => ac.abort(new Error(`connect timeout (${this.config.connectTimeoutMs} ms)`)),
      this.config.connectTimeoutMs,
    );
    return this.#connector.connect(host.endpoint, this.config, ac.signal).then(
      (socket) => {
        clearTimeout(timer);
        return socket;
      },
      (err: Error) => {
        clearTimeout(timer);
        throw ac.signal.aborted
          ? new Error(String((ac.signal.reason as Error)?.message ?? ac.signal.reason))
          : err;
      },
    );
  }

  #connect(host: Host, protocol: 'http1' | 'http2'): void {
    host.connecting++;
    this.#connections++;
    this.stats.upstream_cx_total++;
    this.#dial(host).then(
      (socket) => {
        host.connecting--;
        this.#outlier?.reportLocalSuccess(host);
        if (this.#closed || !host.live) {
          socket.destroy();
          this.#connections--;
          return;
        }
        this.#opened(host, protocol, socket);
      },
      (err: Error) => {
        host.connecting--;
        this.#connections--;
        this.stats.upstream_cx_connect_fail++;
        this.#outlier?.reportLocalFailure(host);
        const message = err.message;
        // HTTP/1.1: the request this connection was opened for fails; HTTP/2: everyone waiting
        // for the session. The exchange may retry elsewhere.
        const failed = new UpstreamError('connect-failure', message);
        for (const w of [...(this.#waiting.get(host) ?? [])]) {
          if (w.done || w.protocol !== protocol) continue;
          this.#reject(w, failed);
          if (protocol === 'http1') break;
        }
        this.#log?.debug(
          { cluster: this.config.name, host: host.address, err: message },
          'upstream connect failed',
        );
      },
    );
  }

  #opened(host: Host, protocol: 'http1' | 'http2', socket: Duplex): void {
    if (protocol === 'http1') {
      const conn = new H1Connection(socket, host.address, {
        idle: (c) => this.#released(host, c),
        closed: (c) => {
          if (host.h1.delete(c)) this.#connections--;
          const i = host.idle.indexOf(c);
          if (i !== -1) host.idle.splice(i, 1);
          // A slot under max_connections may have opened for a queued request.
          if (!this.#closed) this.#serveWaiters(host, 'http1');
        },
      });
      host.h1.add(conn);
      this.#released(host, conn);
      return;
    }
    const s = new H2Session(socket, host.address, (x) => {
      const i = host.h2.indexOf(x);
      if (i !== -1) {
        host.h2.splice(i, 1);
        this.#connections--;
      }
    });
    host.h2.push(s);
    this.#serveWaiters(host, 'http2');
  }

  /** A connection became free: the next waiter takes it, else it goes idle. */
  #released(host: Host, c: H1Connection): void {
    const max = this.config.maxRequestsPerConnection;
    if (!host.live || (max > 0 && c.requests >= max)) {
      c.close();
      return;
    }
    const list = this.#waiting.get(host);
    const i = list ? list.findIndex((w) => !w.done && w.protocol === 'http1') : -1;
    if (i === -1) {
      if (this.#draining) c.close();
      else host.idle.push(c);
      return;
    }
    const w = list!.splice(i, 1)[0]!;
    w.done = true;
    this.pending--;
    w.cb(undefined, c);
  }

  #serveWaiters(host: Host, protocol: 'http1' | 'http2'): void {
    const list = this.#waiting.get(host);
    if (!list) return;
    for (let i = 0; i < list.length;) {
      const w = list[i]!;
      if (w.done) {
        list.splice(i, 1);
        continue;
      }
      if (w.protocol !== protocol) {
        i++;
        continue;
      }
      const s = this.#ready(host, protocol);
      if (!s) {
        const connecting = protocol === 'http1' ? 0 : host.connecting;
        if (connecting === 0 && host.live && this.#connections < this.config.limits.maxConnections)
          this.#connect(host, protocol);
        return;
      }
      list.splice(i, 1);
      w.done = true;
      this.pending--;
      w.cb(undefined, s);
    }
  }

  #reject(w: Waiter, err: UpstreamError): void {
    if (w.done) return;
    w.done = true;
    this.pending--;
    w.cb(err);
  }

  #reapIdle(): void {
    const cutoff = Date.now() - this.config.idleTimeoutMs;
    for (const h of this.#hosts) {
      for (const c of [...h.idle]) if (c.idleSince < cutoff) c.close();
      for (const s of [...h.h2]) if (s.active === 0 && s.idleSince < cutoff) s.close();
    }
    // ORIGINAL_DST hosts are forgotten once nothing uses them (Envoy's cleanup interval).
    if (this.config.originalDst)
      this.#hosts = this.#hosts.filter((h) => {
        const unused = h.connections === 0 && h.active === 0 && !this.#waiting.get(h)?.length;
        if (unused) this.#byKey.delete(h.key);
        return !unused;
      });
  }
}

function noop(): void {}
