// The headers ztunnel puts on an outbound CONNECT besides :authority (pure).
import { randomFillSync } from 'node:crypto';
import { formatForwardedFor } from '@trellis/hbone';
import type { Workload } from '../state/model.js';

/**
 * A W3C traceparent for a new, sampled trace: 00-<trace id>-<span id>-01. Neither id may be all
 * zeros (the format's invalid value): such a draw is drawn again.
 */
export function newTraceparent(random: (n: number) => Buffer = pooledRandomBytes): string {
  let ids = random(24);
  while (isZero(ids, 0, 16) || isZero(ids, 16, 24)) ids = random(24);
  return `00-${ids.toString('hex', 0, 16)}-${ids.toString('hex', 16, 24)}-01`;
}

function isZero(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Random bytes from a pool the CSPRNG refills 4 KiB at a time: every outbound connection takes 24
 * for its trace, and one randomBytes call per connection was ~5 % of ztunnel's CPU per connection.
 * The bytes are only valid until the next call.
 */
function pooledRandomBytes(n: number): Buffer {
  if (poolUsed + n > pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  poolUsed += n;
  return pool.subarray(poolUsed - n, poolUsed);
}
const pool = Buffer.alloc(4096);
let poolUsed = pool.length;

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
