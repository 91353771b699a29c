// Istio's request metrics with Istio's names, labels and buckets: istio_requests_total,
// istio_request_duration_milliseconds, istio_request_bytes, istio_response_bytes. Aggregated here
// per label set (one map lookup and a few additions per request, instead of four OpenTelemetry
// instrument calls that each hash ~25 attributes) and rendered in the Prometheus text format on
// scrape, next to the OpenTelemetry registry's own text.

export const REQUEST_LABELS = [
  'reporter',
  'source_workload',
  'source_canonical_service',
  'source_canonical_revision',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_cluster',
  'request_protocol',
  'response_code',
  'grpc_response_status',
  'response_flags',
  'connection_security_policy',
] as const;

export type RequestLabels = Record<(typeof REQUEST_LABELS)[number], string>;

/** Istio's default buckets for istio_request_duration_milliseconds. */
export const DURATION_BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000,
  1800000, 3600000,
];
/** Istio's buckets for istio_request_bytes / istio_response_bytes. */
export const SIZE_BUCKETS = [
  1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
];

class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
}

interface Series {
  readonly labels: string;
  requests: number;
  readonly duration: Histogram;
  readonly requestBytes: Histogram;
  readonly responseBytes: Histogram;
}

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function renderLabels(l: RequestLabels): string {
  let s = '';
  for (const k of REQUEST_LABELS) s += `${s === '' ? '' : ','}${k}="${escape(l[k])}"`;
  return s;
}

export class RequestMetrics {
  readonly #series = new Map<string, Series>();

  /**
   * Records one request. `key` identifies the label set (callers build it cheaply from cached
   * parts); `labels` is called only the first time the key is seen.
   */
  record(
    key: string,
    labels: () => RequestLabels,
    durationMs: number,
    requestBytes: number,
    responseBytes: number,
  ): void {
    let s = this.#series.get(key);
    if (!s) {
      s = {
        labels: renderLabels(labels()),
        requests: 0,
        duration: new Histogram(DURATION_BUCKETS),
        requestBytes: new Histogram(SIZE_BUCKETS),
        responseBytes: new Histogram(SIZE_BUCKETS),
      };
      this.#series.set(key, s);
    }
    s.requests++;
    s.duration.observe(durationMs);
    s.requestBytes.observe(requestBytes);
    s.responseBytes.observe(responseBytes);
  }

  /** Prometheus text of the four families. */
  text(): string {
    const out: string[] = [];
    out.push(
      '# HELP istio_requests_total Requests handled, by source, destination and response',
      '# TYPE istio_requests_total counter',
    );
    for (const s of this.#series.values())
      out.push(`istio_requests_total{${s.labels}} ${s.requests}`);
    histogram(
      out,
      'istio_request_duration_milliseconds',
      'Request duration in milliseconds',
      (s) => s.duration,
      this.#series,
    );
    histogram(
      out,
      'istio_request_bytes',
      'Request body size in bytes',
      (s) => s.requestBytes,
      this.#series,
    );
    histogram(
      out,
      'istio_response_bytes',
      'Response body size in bytes',
      (s) => s.responseBytes,
      this.#series,
    );
    return `${out.join('\n')}\n`;
  }
}

function histogram(
  out: string[],
  name: string,
  help: string,
  pick: (s: Series) => Histogram,
  series: Map<string, Series>,
): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
  for (const s of series.values()) {
    const h = pick(s);
    let cum = 0;
    for (let i = 0; i < h.bounds.length; i++) {
      cum += h.counts[i]!;
      out.push(`${name}_bucket{${s.labels},le="${h.bounds[i]}"} ${cum}`);
    }
    out.push(`${name}_bucket{${s.labels},le="+Inf"} ${h.count}`);
    out.push(`${name}_sum{${s.labels}} ${h.sum}`);
    out.push(`${name}_count{${s.labels}} ${h.count}`);
  }
}
