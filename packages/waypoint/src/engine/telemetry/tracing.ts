// A span per request, with W3C trace context: the incoming traceparent (else the one the HBONE
// tunnel carried) is the parent; the span is sampled when the parent was, otherwise by the
// sampling rate; the upstream request carries this span's traceparent. Attributes follow Istio's
// (http.method, http.url, http.status_code, upstream_cluster, istio.canonical_service, ...).
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { getHeader, setHeader } from '../http/headers.pure.js';
import type { Exchange } from '../proxy/exchange.js';

export interface ParsedTraceparent {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

export function parseTraceparent(v: string | undefined): ParsedTraceparent | undefined {
  if (!v) return undefined;
  const m = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(v.trim());
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  return { traceId: m[2]!, spanId: m[3]!, sampled: (parseInt(m[4]!, 16) & 1) === 1 };
}

export interface RequestTracerOptions {
  readonly tracer: Tracer;
  /** Rate (0..1) for requests that bring no sampling decision; a listener's tracing config overrides it. */
  readonly sampling: number;
  readonly random: () => number;
  /** Istio attributes that do not change per request. */
  readonly attributes: Readonly<Record<string, string>>;
}

const spans = new WeakMap<Exchange, Span>();

export class RequestTracer {
  readonly #o: RequestTracerOptions;

  constructor(o: RequestTracerOptions) {
    this.#o = o;
  }

  start(ex: Exchange): void {
    const r = ex.request;
    const incoming = getHeader(r.headers, 'traceparent');
    const parent = parseTraceparent(incoming) ?? parseTraceparent(ex.conn.traceparent);
    const rate = ex.chain.config.tracingSampling ?? this.#o.sampling;
    const sampled = parent ? parent.sampled : this.#o.random() < rate;
    if (!sampled) return;
    const ctx = parent
      ? trace.setSpanContext(ROOT_CONTEXT, {
          traceId: parent.traceId,
          spanId: parent.spanId,
          traceFlags: TraceFlags.SAMPLED,
          isRemote: true,
        })
      : ROOT_CONTEXT;
    const span = this.#o.tracer.startSpan(
      `${r.authority}${ex.urlPath}`,
      {
        kind: SpanKind.SERVER,
        startTime: ex.startTime,
        attributes: {
          ...this.#o.attributes,
          'http.method': r.method,
          'http.url': `${r.scheme}://${r.authority}${r.path}`,
          'http.protocol': r.protocol,
          'guid:x-request-id': ex.requestId,
          user_agent: getHeader(r.headers, 'user-agent') ?? '-',
          'peer.address': ex.conn.remoteAddress,
          downstream_cluster: ex.conn.peer.canonicalService,
          'istio.source_principal': ex.conn.peer.principal,
          component: 'proxy',
        },
      },
      ctx,
    );
    spans.set(ex, span);
    const sc = span.spanContext();
    setHeader(r.headers, 'traceparent', `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`);
  }

  end(ex: Exchange): void {
    const span = spans.get(ex);
    if (!span) return;
    spans.delete(ex);
    span.setAttributes({
      'http.status_code': String(ex.responseStatus),
      upstream_cluster: ex.clusterName || '-',
      'upstream_cluster.name': ex.clusterName || '-',
      response_flags: ex.responseFlags,
      request_size: String(ex.requestBytes),
      response_size: String(ex.responseBytes),
      ...(ex.upstreamRemote ? { 'upstream.address': ex.upstreamRemote } : {}),
      ...(ex.route?.name ? { 'route.name': ex.route.name } : {}),
      ...(ex.grpcStatus !== undefined ? { 'grpc.status_code': String(ex.grpcStatus) } : {}),
    });
    if (ex.responseStatus >= 500 || ex.responseStatus === 0)
      span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(ex.startTime + ex.durationMs);
  }
}
