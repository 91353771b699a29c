// One HTTP request through the engine (Envoy's "stream"): route selection, the HTTP filters,
// then the router: direct responses and redirects, or forwarding to a cluster with load
// balancing, circuit breakers, retries, per-try and global timeouts, request mirroring and outlier
// reporting; the response is relayed with the header mutations of the route. Protocol-neutral:
// the downstream (HTTP/1.1 session or HTTP/2 stream) feeds the request in and takes the response.
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  appendForwardedFor,
  getHeader,
  setHeader,
  stripHopByHop,
  type HeaderList,
} from '../http/headers.pure.js';
import { pathOnly, type RequestHead } from '../http/message.pure.js';
import type { DynamicMetadata, MetadataValue } from '../convert/metadata.js';
import type {
  ForwardAction,
  Route,
  RouteTable,
  VirtualHost,
  WeightedTarget,
} from '../model/route.js';
import { isGrpc, matchRoute, pickTarget, selectVirtualHost } from '../router/select.js';
import { applyMutation, type HeaderContext } from '../router/header-ops.js';
import { redirectLocation } from '../router/rewrite.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { Host } from '../upstream/host.js';
import { hashFor } from './hash.js';
import { startMirrors } from './mirror.js';
import { upgradePipe } from './upgrade-pipe.js';
import { normalizePath } from './normalize-path.js';
import { localResponse } from './local-reply.js';
import {
  backoffMs,
  retriableFailure,
  retriableResponse,
  staleConnection,
} from './retry-decision.js';
import {
  grpcTimeoutMs,
  prepareRequest,
  responseMutations,
  type PreparedRequest,
} from './request-prep.js';
import type {
  ConnectionInfo,
  Downstream,
  EngineServices,
  HttpChain,
  LocalReply,
} from './context.js';
import { UpstreamError, type UpstreamListener, type UpstreamStream } from '../upstream/stream.js';

/** Request body kept for retries and mirrors (Envoy's default per-request buffer limit). */
export const REQUEST_BUFFER_LIMIT = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export class Exchange {
  readonly request: RequestHead;
  readonly conn: ConnectionInfo;
  readonly chain: HttpChain;
  readonly metadata: DynamicMetadata = new Map();
  readonly startTime = Date.now();
  readonly startHr = performance.now();
  readonly grpc: boolean;
  requestId = '';
  /** The path filters and policy see (normalised when the listener says so). */
  urlPath: string;

  table: RouteTable | undefined;
  vhost: VirtualHost | undefined;
  route: Route | undefined;
  /** Headers HTTP filters add to the response (CORS), after the route's header mutations. */
  readonly filterResponseHeaders: HeaderList = [];
  target: WeightedTarget | undefined;
  clusterName = '';

  // Outcome, for telemetry.
  responseStatus = 0;
  responseFlags = '-';
  details = '';
  grpcStatus: number | undefined;
  requestBytes = 0;
  responseBytes = 0;
  upstreamHost: Host | undefined;
  upstreamRemote = '';
  attempts = 0;
  endHr = 0;
  /** Time to the first upstream response byte (ms), for upstream_service_time. */
  upstreamServiceMs = -1;
  /** Telemetry may hang data here (tracing span). */
  observerData: unknown;

  readonly #ds: Downstream;
  readonly #svc: EngineServices;
  #body: Buffer[] = [];
  #bodyBytes = 0;
  #bodyEnded: boolean;
  #replayable = true;
  #trailers: HeaderList | undefined;
  #cluster: ClusterRuntime | undefined;
  #prepared: PreparedRequest | undefined;
  #action: ForwardAction | undefined;
  #attempt: Attempt | undefined;
  #tried: Set<Host> | undefined;
  #retries = 0;
  #transparentRetried = false;
  #globalTimer: NodeJS.Timeout | undefined;
  #backoffTimer: NodeJS.Timeout | undefined;
  #timeoutMs = 0;
  #committed = false;
  #finished = false;
  #routerStarted = false;
  #downstreamPaused = false;
  #mirrorsPending = false;

  constructor(
    ds: Downstream,
    request: RequestHead,
    endStream: boolean,
    conn: ConnectionInfo,
    chain: HttpChain,
    svc: EngineServices,
  ) {
    this.#ds = ds;
    this.request = request;
    this.conn = conn;
    this.chain = chain;
    this.#svc = svc;
    this.#bodyEnded = endStream;
    this.grpc = isGrpc(request.headers);
    this.urlPath = pathOnly(request.path);
    const authn = peerAuthn(conn);
    if (authn) this.metadata.set(ISTIO_AUTHN, authn);
    ds.setDrainListener(() => this.#attempt?.stream?.resume());
  }

  get finished(): boolean {
    return this.#finished;
  }

  get committed(): boolean {
    return this.#committed;
  }

  /** Total time so far (or of the whole exchange once finished), in ms. */
  get durationMs(): number {
    return (this.endHr || performance.now()) - this.startHr;
  }

  /** Runs the exchange: routing, filters, router. */
  start(): void {
    const cfg = this.chain.config;
    if (cfg.normalizePath || cfg.mergeSlashes) {
      const n = normalizePath(this.request.path, cfg.normalizePath, cfg.mergeSlashes);
      if (n === undefined) {
        this.#svc.telemetry.started(this);
        this.localReply({
          status: 400,
          body: 'Bad Request',
          flag: '-',
          details: 'path_normalization_failed',
        });
        return;
      }
      this.request.path = n;
      this.urlPath = pathOnly(n);
    }
    this.#requestId(cfg.generateRequestId, cfg.preserveExternalRequestId);
    if (cfg.useRemoteAddress && !cfg.skipXffAppend)
      appendForwardedFor(this.request.headers, this.conn.remoteAddress);
    this.#selectRoute();
    this.#svc.telemetry.started(this);
    this.#runFilters(0);
  }

  /** Request body from the downstream. */
  onRequestData(chunk: Buffer, end: boolean): void {
    if (this.#finished) return;
    this.requestBytes += chunk.length;
    if (this.#replayable && chunk.length > 0) {
      if (this.#bodyBytes + chunk.length <= REQUEST_BUFFER_LIMIT) {
        this.#body.push(chunk);
        this.#bodyBytes += chunk.length;
      } else {
        this.#replayable = false;
      }
    }
    if (end) this.#bodyEnded = true;
    const a = this.#attempt;
    if (a?.stream && a.sentBody) {
      if (!a.stream.sendData(chunk, end)) this.#pauseDownstream();
    } else if (!this.#replayable && !a?.stream) {
      // Too large to hold until an upstream is ready: stop reading for now.
      if (chunk.length > 0) this.#pending.push(chunk);
      this.#pauseDownstream();
    }
    if (end) this.#requestComplete();
  }

  /** Body chunks held only because the buffer limit was passed before an upstream was ready. */
  #pending: Buffer[] = [];

  onRequestTrailers(trailers: HeaderList): void {
    if (this.#finished) return;
    this.#trailers = trailers;
    this.#bodyEnded = true;
    const a = this.#attempt;
    if (a?.stream && a.sentBody) a.stream.sendTrailers(trailers);
    this.#requestComplete();
  }

  /** The client went away (connection closed, stream reset). */
  onDownstreamAbort(): void {
    if (this.#finished) return;
    this.#cancelAttempt();
    if (!this.#committed) {
      this.responseFlags = 'DC';
      this.details ||= 'downstream_remote_disconnect';
      this.responseStatus = 0;
    } else {
      this.responseFlags = 'DC';
    }
    this.#finish();
  }

  /** Answers locally (filters, router errors). */
  localReply(r: LocalReply): void {
    if (this.#finished) return;
    if (this.#committed) {
      this.#ds.reset();
      this.#finish();
      return;
    }
    this.#cancelAttempt();
    const flag = r.flag ?? '-';
    this.responseFlags =
      this.responseFlags === 'DI' && flag !== '-'
        ? `DI,${flag}`
        : this.responseFlags === 'DI'
          ? 'DI'
          : flag;
    this.details = r.details;
    const res = localResponse(r.status, r.body, r.headers, this.grpc, r.grpcStatus);
    if (res.grpc) this.grpcStatus = Number(getHeader(res.headers, 'grpc-status'));
    this.responseStatus = res.status;
    this.#committed = true;
    const headers = res.headers;
    if (this.table && this.vhost && this.route) this.#applyResponseMutations(headers);
    this.#ds.sendHead({ status: res.status, headers }, res.body.length === 0, res.grpc);
    if (res.body.length > 0) {
      this.responseBytes += res.body.length;
      this.#ds.sendData(res.body, true);
    }
    this.#finish();
  }

  readonly #headerContext = (): HeaderContext => this.headerContext();

  /** What header value operators (%DOWNSTREAM_REMOTE_ADDRESS% ...) read. */
  headerContext(): HeaderContext {
    const c = this.conn;
    return {
      downstreamRemote: formatAddr(c.remoteAddress, c.sourcePort),
      downstreamLocal: c.localAddress,
      ...(c.peerPrincipal ? { peerUri: c.peerPrincipal } : {}),
      ...(this.upstreamRemote ? { upstreamRemote: this.upstreamRemote } : {}),
      protocol: this.request.protocol,
      startTime: this.startTime,
      hostname: this.#svc.hostname,
      requestHeaders: this.request.headers,
    };
  }

  #requestId(generate: boolean, preserve: boolean): void {
    const h = this.request.headers;
    const existing = getHeader(h, 'x-request-id');
    // An incoming id is kept: Envoy keeps ids of internal requests, and a mesh hop is internal.
    void preserve;
    if (existing !== undefined) {
      this.requestId = existing;
      return;
    }
    if (generate) {
      this.requestId = randomUUID();
      h.push('x-request-id', this.requestId);
    }
  }

  #selectRoute(): void {
    const table = this.chain.routes();
    this.table = table;
    if (!table) return;
    const r = this.request;
    const authority = this.chain.config.stripAnyHostPort
      ? stripAuthorityPort(r.authority)
      : r.authority;
    const vh = selectVirtualHost(table, authority);
    this.vhost = vh;
    if (!vh) return;
    this.route = matchRoute(
      vh,
      {
        method: r.method,
        path: this.urlPath + queryOf(r.path),
        authority: r.authority,
        scheme: r.scheme,
        headers: r.headers,
        metadata: this.metadata,
      },
      this.#svc.random,
    );
    // The target is chosen now, so that local replies (RBAC, JWT, faults) are reported against
    // the cluster the request was headed for.
    if (this.route?.action.kind === 'forward') {
      this.target = pickTarget(this.route.action, this.#svc.random());
      this.clusterName = this.target.cluster;
    }
  }

  /** A filter that threw or rejected: logged, and the request answered 500. */
  #filterFailed(err: unknown, filter: string): void {
    this.#svc.logger.error({ err, filter }, 'HTTP filter failed');
    this.localReply({ status: 500, body: 'internal error', flag: '-', details: 'filter_error' });
  }

  #runFilters(from: number): void {
    const filters = this.chain.filters;
    for (let i = from; i < filters.length; i++) {
      if (this.#finished) return;
      const f = filters[i]!;
      if (this.#filterDisabled(f.name, f.disabledByDefault)) continue;
      let result;
      try {
        result = f.decode(this);
      } catch (err) {
        this.#filterFailed(err, f.name);
        return;
      }
      if (result === undefined) continue;
      if (result instanceof Promise) {
        result.then(
          (r) => {
            if (this.#finished) return;
            if (r) this.localReply(r);
            else this.#runFilters(i + 1);
          },
          (err: Error) => this.#filterFailed(err, f.name),
        );
        return;
      }
      this.localReply(result);
      return;
    }
    if (!this.#finished) this.#router();
  }

  #filterDisabled(name: string, byDefault: boolean): boolean {
    const r = this.route?.perFilter;
    const v = this.vhost?.perFilter;
    if (r?.disabled.has(name) || v?.disabled.has(name)) return true;
    return byDefault;
  }

  #router(): void {
    this.#routerStarted = true;
    const route = this.route;
    if (!this.table || !this.vhost || !route) {
      this.localReply({ status: 404, body: '', flag: 'NR', details: 'route_not_found' });
      return;
    }
    const action = route.action;
    const upgrade = this.request.upgrade;
    if (
      upgrade !== undefined &&
      !(
        (action.kind === 'forward' ? action.upgrades.get(upgrade) : undefined) ??
        this.chain.config.upgrades.has(upgrade)
      )
    ) {
      // Envoy's answer to an upgrade its connection manager and route do not allow (the route's
      // setting wins over the connection manager's).
      this.localReply({ status: 403, body: '', flag: '-', details: 'upgrade_failed' });
      return;
    }
    if (action.kind === 'direct') {
      this.localReply({
        status: action.status,
        body: action.body,
        flag: '-',
        details: 'direct_response',
      });
      return;
    }
    if (action.kind === 'redirect') {
      const location = redirectLocation(action, route, this.request);
      this.localReply({
        status: action.status,
        body: '',
        headers: ['location', location],
        flag: '-',
        details: 'via_upstream_redirect',
      });
      return;
    }
    this.#action = action;
    const target = this.target ?? pickTarget(action, this.#svc.random());
    this.target = target;
    this.clusterName = target.cluster;
    const cluster = this.#svc.cluster(target.cluster);
    if (!cluster) {
      this.localReply({
        status: action.clusterNotFoundStatus,
        body: '',
        flag: 'NC',
        details: 'cluster_not_found',
      });
      return;
    }
    if (upgrade !== undefined && cluster.config.protocol === 'http2') {
      // Upgrades over HTTP/2 (extended CONNECT, RFC 8441) are not supported.
      this.localReply({ status: 403, body: '', flag: '-', details: 'upgrade_failed' });
      return;
    }
    this.#cluster = cluster;
    cluster.stats.upstream_rq_total++;
    const scheme = this.request.scheme;
    this.#prepared = prepareRequest(this.request, {
      table: this.table,
      vh: this.vhost,
      route,
      action,
      target,
      requestId: this.requestId,
      ctx: this.#headerContext,
      endStream:
        this.#bodyEnded && this.#bodyBytes === 0 && this.#pending.length === 0 && !this.#trailers,
      upstreamScheme: scheme,
    });
    if (upgrade !== undefined) {
      // The upgrade headers are hop-by-hop but this hop carries the upgrade on.
      const token = getHeader(this.request.headers, 'upgrade') ?? upgrade;
      this.#prepared.headers.push('connection', 'upgrade', 'upgrade', token);
    }
    let timeout = action.timeoutMs;
    if (action.maxGrpcTimeoutMs !== undefined && this.grpc) {
      const g = grpcTimeoutMs(getHeader(this.request.headers, 'grpc-timeout'));
      if (g !== undefined)
        timeout = action.maxGrpcTimeoutMs > 0 ? Math.min(g, action.maxGrpcTimeoutMs) : g;
    }
    this.#timeoutMs = timeout;
    if (this.#bodyEnded) this.#startGlobalTimer();
    this.#mirrorsPending =
      upgrade === undefined &&
      action.mirrors.length + this.vhost.mirrors.length + this.table.mirrors.length > 0;
    if (this.#mirrorsPending && this.#bodyEnded) this.#mirror();
    this.#startAttempt();
  }

  #requestComplete(): void {
    if (!this.#routerStarted || this.#finished) return;
    this.#startGlobalTimer();
    if (this.#mirrorsPending) this.#mirror();
  }

  #mirror(): void {
    this.#mirrorsPending = false;
    if (!this.#replayable || !this.#prepared || !this.#action) return;
    startMirrors(
      [...this.#action.mirrors, ...this.vhost!.mirrors, ...this.table!.mirrors],
      this.#prepared,
      this.#body,
      this.#trailers,
      this.#svc,
    );
  }

  #startGlobalTimer(): void {
    if (this.#globalTimer || this.#timeoutMs <= 0 || this.#finished) return;
    this.#globalTimer = setTimeout(() => this.#onGlobalTimeout(), this.#timeoutMs);
  }

  #onGlobalTimeout(): void {
    this.#globalTimer = undefined;
    if (this.#finished) return;
    if (this.#cluster) this.#cluster.stats.upstream_rq_timeout++;
    if (this.#attempt?.host) this.#cluster?.outlier?.reportLocalFailure(this.#attempt.host);
    if (this.#committed) {
      this.responseFlags = 'UT';
      this.#cancelAttempt();
      this.#ds.reset();
      this.#finish();
      return;
    }
    this.localReply({
      status: 504,
      body: 'upstream request timeout',
      flag: 'UT',
      details: 'upstream_response_timeout',
    });
  }

  #startAttempt(): void {
    if (this.#finished) return;
    const cluster = this.#cluster!;
    const retry =
      this.route?.action.kind === 'forward'
        ? (this.#action!.retry ?? this.vhost!.retry)
        : undefined;
    const host = cluster.pick({
      random: this.#svc.random,
      destination: this.conn,
      ...(retry?.otherHosts && this.#tried ? { avoid: this.#tried } : {}),
      ...(this.#action!.hashPolicies.length > 0
        ? { hash: hashFor(this.#action!.hashPolicies, this) }
        : {}),
    });
    if (!host) {
      this.localReply({
        status: 503,
        body: 'no healthy upstream',
        flag: 'UH',
        details: 'no_healthy_upstream',
      });
      return;
    }
    this.attempts++;
    (this.#tried ??= new Set()).add(host);
    const attempt = new Attempt(this, host);
    this.#attempt = attempt;
    this.upstreamHost = host;
    this.upstreamRemote = host.address;
    host.active++;
    const protocol =
      cluster.config.protocol === 'downstream'
        ? this.request.protocol === 'HTTP/2'
          ? 'http2'
          : 'http1'
        : cluster.config.protocol;
    const perTry = retry?.perTryTimeoutMs ?? 0;
    if (perTry > 0)
      attempt.timer = setTimeout(
        () => attempt.onError(new UpstreamError('timeout', `per-try timeout (${perTry} ms)`)),
        perTry,
      );
    const acquired = (err: UpstreamError | undefined, stream?: UpstreamStream): void => {
      attempt.cancel = undefined;
      if (err) {
        attempt.onError(err);
        return;
      }
      if (this.#attempt !== attempt || this.#finished) {
        stream!.reset();
        return;
      }
      attempt.stream = stream;
      attempt.reused = stream!.reused;
      cluster.activeRequests++;
      attempt.counted = true;
      const req = this.#prepared!;
      const endStream =
        this.#bodyEnded && this.#bodyBytes === 0 && this.#pending.length === 0 && !this.#trailers;
      stream!.start(endStream === req.endStream ? req : { ...req, endStream }, attempt);
      attempt.sentBody = true;
      if (!endStream) this.#sendBody(stream!);
    };
    // An upgrade takes its upstream connection for good: a fresh one, never from the pool.
    attempt.cancel =
      this.request.upgrade !== undefined
        ? cluster.acquireDedicated(host, acquired)
        : cluster.acquire(host, protocol, acquired);
  }

  /** Sends what the downstream sent so far (buffer and held chunks), then streams the rest. */
  #sendBody(stream: UpstreamStream): void {
    const chunks = this.#replayable ? this.#body : this.#pending;
    const n = chunks.length;
    let ok = true;
    for (let i = 0; i < n; i++) {
      const last = i === n - 1 && this.#bodyEnded && !this.#trailers;
      ok = stream.sendData(chunks[i]!, last);
    }
    if (!this.#replayable) this.#pending = [];
    if (n === 0 && this.#bodyEnded && !this.#trailers) stream.sendData(EMPTY, true);
    if (this.#trailers) stream.sendTrailers(this.#trailers);
    if (ok) this.#resumeDownstream();
    else this.#pauseDownstream();
  }

  // ---- attempt outcomes (called by Attempt, only for the current one) ----

  onAttemptInformational(status: number, headers: HeaderList): void {
    if (this.#committed || this.request.protocol === 'HTTP/1.0') return;
    this.#ds.sendInformational(status, stripHopByHop(headers));
  }

  onAttemptHead(a: Attempt, status: number, headers: HeaderList, endStream: boolean): void {
    const cluster = this.#cluster!;
    if (this.upstreamServiceMs < 0) this.upstreamServiceMs = performance.now() - this.startHr;
    const gs = getHeader(headers, 'grpc-status');
    const grpcStatus = gs !== undefined && /^\d+$/.test(gs) ? Number(gs) : undefined;
    cluster.outlier?.reportStatus(a.host, status);
    const retry = this.#action!.retry ?? this.vhost!.retry;
    if (retry && retriableResponse(retry, status, grpcStatus) && this.#canRetry(retry)) {
      this.#retry(retry, `upstream answered ${status}`);
      return;
    }
    this.#commitResponse(status, headers, endStream, grpcStatus);
    if (endStream) this.#attemptDone();
  }

  /** 101 from the upstream: answer 101 and relay bytes both ways until both sides are closed. */
  onAttemptUpgrade(status: number, headers: HeaderList, socket: Duplex, rest: Buffer): void {
    if (this.upstreamServiceMs < 0) this.upstreamServiceMs = performance.now() - this.startHr;
    if (!this.#ds.upgrade) {
      socket.destroy();
      this.localReply({ status: 502, body: '', flag: 'UPE', details: 'upgrade_failed' });
      return;
    }
    // The route timeout covers waiting for the 101, not the upgraded stream.
    if (this.#globalTimer) clearTimeout(this.#globalTimer);
    this.#globalTimer = undefined;
    this.#timeoutMs = 0;
    this.#committed = true;
    this.responseStatus = status;
    this.details ||= 'via_upstream';
    const out = stripHopByHop(headers);
    this.#applyResponseMutations(out);
    out.push(
      'connection',
      'upgrade',
      'upgrade',
      getHeader(headers, 'upgrade') ?? this.request.upgrade!,
    );
    const down = this.#ds.upgrade({ status, headers: out });
    upgradePipe(down.socket, down.buffered, socket, rest, (counts) => {
      this.requestBytes += counts.sent;
      this.responseBytes += counts.received;
      this.#attemptDone();
    });
  }

  onAttemptData(chunk: Buffer, endStream: boolean): void {
    if (chunk.length > 0) this.responseBytes += chunk.length;
    if (!this.#ds.sendData(chunk, endStream)) this.#attempt?.stream?.pause();
    if (endStream) this.#attemptDone();
  }

  onAttemptTrailers(trailers: HeaderList): void {
    const gs = getHeader(trailers, 'grpc-status');
    if (gs !== undefined && /^\d+$/.test(gs)) this.grpcStatus = Number(gs);
    this.#ds.sendTrailers(trailers);
    this.#attemptDone();
  }

  onAttemptDrain(): void {
    this.#resumeDownstream();
  }

  onAttemptError(a: Attempt, err: UpstreamError): void {
    const cluster = this.#cluster!;
    this.#releaseAttempt(a);
    if (this.#committed) {
      this.responseFlags = 'UC';
      this.details = `upstream_reset_after_response_started{${err.failure}}`;
      this.#ds.reset();
      this.#finish();
      return;
    }
    if (err.failure === 'overflow') {
      this.localReply({
        status: 503,
        body: 'upstream connect error or disconnect/reset before headers. reset reason: overflow',
        flag: 'UO',
        details: 'upstream_reset_before_response_started{overflow}',
      });
      return;
    }
    // Connect failures were reported by the cluster; the rest never produced a response.
    if (err.failure !== 'connect-failure') cluster.outlier?.reportLocalFailure(a.host);
    // A kept-alive connection the server had closed: one silent retry on a fresh one.
    if (staleConnection(err.failure, a.reused) && this.#replayable && !this.#transparentRetried) {
      this.#transparentRetried = true;
      this.#startAttempt();
      return;
    }
    const retry = this.#action!.retry ?? this.vhost!.retry;
    if (retry && retriableFailure(retry, err.failure) && this.#canRetry(retry)) {
      this.#retry(retry, err.message);
      return;
    }
    const flag =
      err.failure === 'timeout'
        ? 'UT'
        : err.failure === 'connect-failure'
          ? 'UF'
          : this.#retries > 0
            ? 'URX'
            : 'UC';
    if (err.failure === 'timeout') {
      this.localReply({
        status: 504,
        body: 'upstream request timeout',
        flag,
        details: 'upstream_per_try_timeout',
      });
      return;
    }
    const reason =
      err.failure === 'connect-failure' ? 'remote connection failure' : 'connection termination';
    this.localReply({
      status: 503,
      body: `upstream connect error or disconnect/reset before headers. reset reason: ${reason}, transport failure reason: ${err.message}`,
      flag,
      details: `upstream_reset_before_response_started{${err.failure}}`,
    });
  }

  #canRetry(retry: NonNullable<ForwardAction['retry']>): boolean {
    if (this.#committed || this.#finished || !this.#replayable) return false;
    if (this.request.upgrade !== undefined) return false;
    if (this.#retries >= retry.numRetries) return false;
    const cluster = this.#cluster!;
    if (cluster.activeRetries >= cluster.config.limits.maxRetries) {
      cluster.stats.upstream_rq_retry_overflow++;
      return false;
    }
    return true;
  }

  #retry(retry: NonNullable<ForwardAction['retry']>, why: string): void {
    const cluster = this.#cluster!;
    if (this.#attempt) {
      const a = this.#attempt;
      a.stream?.reset();
      this.#releaseAttempt(a);
    }
    this.#retries++;
    cluster.stats.upstream_rq_retry++;
    cluster.activeRetries++;
    const delay = backoffMs(retry, this.#retries, this.#svc.random);
    this.#svc.logger.debug(
      { cluster: cluster.config.name, why, retry: this.#retries, delay },
      'retrying',
    );
    this.#backoffTimer = setTimeout(() => {
      this.#backoffTimer = undefined;
      cluster.activeRetries--;
      this.#startAttempt();
    }, delay);
  }

  #commitResponse(
    status: number,
    upstreamHeaders: HeaderList,
    endStream: boolean,
    grpcStatus: number | undefined,
  ): void {
    this.#committed = true;
    this.responseStatus = status;
    this.grpcStatus = grpcStatus;
    this.details ||= 'via_upstream';
    const headers = stripHopByHop(upstreamHeaders);
    this.#applyResponseMutations(headers);
    const grpcResponse = (getHeader(headers, 'content-type') ?? '').startsWith('application/grpc');
    this.#ds.sendHead({ status, headers }, endStream, grpcResponse);
  }

  #applyResponseMutations(headers: HeaderList): void {
    for (const m of responseMutations(this.table!, this.vhost!, this.route!, this.target)) {
      applyMutation(headers, m, this.#headerContext);
    }
    const added = this.filterResponseHeaders;
    for (let i = 0; i < added.length; i += 2) setHeader(headers, added[i]!, added[i + 1]!);
  }

  #attemptDone(): void {
    const a = this.#attempt;
    if (a) this.#releaseAttempt(a);
    this.#finish();
  }

  #releaseAttempt(a: Attempt): void {
    if (a.released) return;
    a.released = true;
    if (a.timer) clearTimeout(a.timer);
    a.cancel?.();
    a.host.active--;
    if (a.counted) this.#cluster!.activeRequests--;
    if (this.#attempt === a) this.#attempt = undefined;
  }

  #cancelAttempt(): void {
    if (this.#backoffTimer) {
      clearTimeout(this.#backoffTimer);
      this.#backoffTimer = undefined;
      if (this.#cluster) this.#cluster.activeRetries--;
    }
    const a = this.#attempt;
    if (!a) return;
    a.stream?.reset();
    this.#releaseAttempt(a);
  }

  #pauseDownstream(): void {
    if (this.#downstreamPaused) return;
    this.#downstreamPaused = true;
    this.#ds.pauseRequest();
  }

  #resumeDownstream(): void {
    if (!this.#downstreamPaused) return;
    this.#downstreamPaused = false;
    this.#ds.resumeRequest();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.endHr = performance.now();
    if (this.#globalTimer) clearTimeout(this.#globalTimer);
    if (this.#backoffTimer) {
      clearTimeout(this.#backoffTimer);
      if (this.#cluster) this.#cluster.activeRetries--;
    }
    this.#resumeDownstream();
    this.#body = [];
    this.#pending = [];
    this.#svc.telemetry.finished(this);
  }
}

/** One try of the request on one host; stale callbacks of abandoned tries are ignored. */
export class Attempt implements UpstreamListener {
  readonly #ex: Exchange;
  readonly host: Host;
  stream: UpstreamStream | undefined;
  cancel: (() => void) | undefined;
  timer: NodeJS.Timeout | undefined;
  sentBody = false;
  reused = false;
  counted = false;
  released = false;

  constructor(ex: Exchange, host: Host) {
    this.#ex = ex;
    this.host = host;
  }

  #current(): boolean {
    return !this.released && !this.#ex.finished;
  }

  onInformational(status: number, headers: HeaderList): void {
    if (this.#current()) this.#ex.onAttemptInformational(status, headers);
  }

  onHead(status: number, headers: HeaderList, endStream: boolean): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.#current()) this.#ex.onAttemptHead(this, status, headers, endStream);
  }

  onData(chunk: Buffer, endStream: boolean): void {
    if (this.#current()) this.#ex.onAttemptData(chunk, endStream);
  }

  onUpgrade(status: number, headers: HeaderList, socket: Duplex, rest: Buffer): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.#current()) this.#ex.onAttemptUpgrade(status, headers, socket, rest);
    else socket.destroy();
  }

  onTrailers(trailers: HeaderList): void {
    if (this.#current()) this.#ex.onAttemptTrailers(trailers);
  }

  onError(err: UpstreamError): void {
    if (!this.#current()) return;
    if (err.failure === 'timeout') this.stream?.reset();
    this.#ex.onAttemptError(this, err);
  }

  onDrain(): void {
    if (this.#current()) this.#ex.onAttemptDrain();
  }
}

const ISTIO_AUTHN = 'istio_authn';
const authnByConn = new WeakMap<ConnectionInfo, Record<string, MetadataValue>>();

/**
 * Istio's authn attributes of the peer (source.principal without "spiffe://", source.namespace),
 * which route matches (consumer routes) and RBAC metadata matchers read. One object per connection.
 */
function peerAuthn(conn: ConnectionInfo): Record<string, MetadataValue> | undefined {
  const p = conn.peerPrincipal;
  if (p === undefined) return undefined;
  let a = authnByConn.get(conn);
  if (!a) {
    const id = p.startsWith('spiffe://') ? p.slice(9) : p;
    const ns = /\/ns\/([^/]+)\//.exec(id)?.[1] ?? '';
    a = { 'source.principal': id, 'source.namespace': ns, 'source.user': id };
    authnByConn.set(conn, a);
  }
  return a;
}

function formatAddr(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function queryOf(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? '' : path.slice(q);
}

function stripAuthorityPort(a: string): string {
  const c = a.lastIndexOf(':');
  return c > 0 && a.indexOf(']') < c && /^\d+$/.test(a.slice(c + 1)) ? a.slice(0, c) : a;
}
