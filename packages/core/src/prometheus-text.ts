// Collected OpenTelemetry metrics rendered in the Prometheus text format (0.0.4), every name
// exactly as the instrument was named. Istio exports some counters without "_total"
// (citadel_server_csr_count, pilot_xds_pushes, pilot_total_xds_rejects); the OpenTelemetry
// exporter appends "_total" to every counter, so they would get another name or have to be gauges.
// This renderer writes counters as counters under the name they were given. Pure.
import type { Attributes } from '@opentelemetry/api';
import {
  DataPointType,
  type DataPoint,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';

/** Prometheus text for every metric with data; a name registered twice is rendered once (the first). */
export function renderPrometheusText(metrics: ResourceMetrics): string {
  const seen = new Set<string>();
  let out = '';
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const name = metric.descriptor.name;
      if (metric.dataPoints.length === 0 || seen.has(name)) continue;
      seen.add(name);
      out += renderFamily(metric);
    }
  }
  return out;
}

function renderFamily(metric: MetricData): string {
  const { name, description } = metric.descriptor;
  let out = description ? `# HELP ${name} ${escapeHelp(description)}\n` : '';
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      out += `# TYPE ${name} ${metric.isMonotonic ? 'counter' : 'gauge'}\n`;
      for (const p of metric.dataPoints) out += sample(name, p.attributes, p.value);
      return out;
    case DataPointType.GAUGE:
      out += `# TYPE ${name} gauge\n`;
      for (const p of metric.dataPoints) out += sample(name, p.attributes, p.value);
      return out;
    case DataPointType.HISTOGRAM:
      out += `# TYPE ${name} histogram\n`;
      for (const p of metric.dataPoints) out += histogram(name, p);
      return out;
    case DataPointType.EXPONENTIAL_HISTOGRAM:
      // Not used by Trellis (no instrument asks for it); Prometheus text has no form for it.
      return '';
  }
}

function histogram(
  name: string,
  p: DataPoint<{
    buckets: { boundaries: number[]; counts: number[] };
    sum?: number;
    count: number;
  }>,
): string {
  let out = '';
  let cumulative = 0;
  const { boundaries, counts } = p.value.buckets;
  for (let i = 0; i < boundaries.length; i++) {
    cumulative += counts[i] ?? 0;
    out += sample(`${name}_bucket`, p.attributes, cumulative, formatNumber(boundaries[i]!));
  }
  out += sample(`${name}_bucket`, p.attributes, p.value.count, '+Inf');
  out += sample(`${name}_sum`, p.attributes, p.value.sum ?? 0);
  out += sample(`${name}_count`, p.attributes, p.value.count);
  return out;
}

function sample(name: string, attributes: Attributes, value: number, le?: string): string {
  const labels = Object.entries(attributes)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${labelName(k)}="${escapeLabel(String(v))}"`);
  if (le !== undefined) labels.push(`le="${le}"`);
  return `${name}${labels.length ? `{${labels.join(',')}}` : ''} ${formatNumber(value)}\n`;
}

/** Label names may only hold [a-zA-Z0-9_] and not start with a digit. */
function labelName(key: string): string {
  const name = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
