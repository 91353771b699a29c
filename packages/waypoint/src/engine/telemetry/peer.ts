// Telemetry labels of a peer workload, as Istio's source_* / destination_* metric labels and the
// access log name them: from the SPIFFE identity and the W3C baggage ztunnel sends with HBONE
// (k8s.namespace.name, k8s.<kind>.name, service.name, service.version, k8s.cluster.name).

export interface PeerLabels {
  readonly principal: string;
  readonly workload: string;
  readonly namespace: string;
  readonly canonicalService: string;
  readonly canonicalRevision: string;
  readonly cluster: string;
}

export const UNKNOWN_PEER: PeerLabels = {
  principal: 'unknown',
  workload: 'unknown',
  namespace: 'unknown',
  canonicalService: 'unknown',
  canonicalRevision: 'unknown',
  cluster: 'unknown',
};

/** Parses a W3C baggage header into key -> value. */
export function parseBaggage(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const member of header.split(',')) {
    const kv = member.split(';')[0]!;
    const eq = kv.indexOf('=');
    if (eq <= 0) continue;
    const key = kv.slice(0, eq).trim();
    let value = kv.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep it raw
    }
    out.set(key, value);
  }
  return out;
}

const WORKLOAD_KINDS = [
  'deployment',
  'statefulset',
  'daemonset',
  'job',
  'cronjob',
  'replicaset',
  'pod',
];

/** Labels from a verified SPIFFE ID and baggage (baggage fills what the identity cannot say). */
export function peerLabels(principal: string | undefined, baggage: string | undefined): PeerLabels {
  const b = parseBaggage(baggage);
  const m = principal ? /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal) : null;
  let workload: string | undefined;
  for (const kind of WORKLOAD_KINDS) {
    workload = b.get(`k8s.${kind}.name`);
    if (workload) break;
  }
  const namespace = m?.[2] ?? b.get('k8s.namespace.name');
  return {
    principal: principal ?? 'unknown',
    workload: workload ?? 'unknown',
    namespace: namespace ?? 'unknown',
    canonicalService: b.get('service.name') ?? workload ?? 'unknown',
    canonicalRevision: b.get('service.version') ?? 'latest',
    cluster: b.get('k8s.cluster.name') ?? 'unknown',
  };
}
