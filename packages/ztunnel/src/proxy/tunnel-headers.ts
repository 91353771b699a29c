// The headers ztunnel puts on an outbound CONNECT besides :authority (pure).
import { randomBytes } from 'node:crypto';
import { formatForwardedFor } from '@trellis/hbone';
import type { Workload } from '../state/model.js';

/** A W3C traceparent for a new, sampled trace: 00-<trace id>-<span id>-01. */
export function newTraceparent(random: (n: number) => Buffer = randomBytes): string {
  return `00-${random(16).toString('hex')}-${random(8).toString('hex')}-01`;
}

/**
 * W3C baggage describing the source workload, the keys Istio uses: k8s.cluster.name,
 * k8s.namespace.name, k8s.<kind>.name (the workload name and its type), service.name
 * (canonical name) and service.version (canonical revision). Empty values are left out.
 */
export function sourceBaggage(w: Workload | undefined): string | undefined {
  if (!w) return undefined;
  const entries: [string, string][] = [
    ['k8s.cluster.name', w.clusterId],
    ['k8s.namespace.name', w.namespace],
    [`k8s.${w.workloadType}.name`, w.workloadName || w.name],
    ['service.name', w.canonicalName],
    ['service.version', w.canonicalRevision],
  ];
  return entries
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join(',');
}

export function tunnelHeaders(
  src: { address: string; port: number },
  source: Workload | undefined,
) {
  const baggage = sourceBaggage(source);
  return {
    forwarded: formatForwardedFor(src),
    traceparent: newTraceparent(),
    ...(baggage ? { baggage } : {}),
  };
}
