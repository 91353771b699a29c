// `trellis ztunnel-config` views of a ztunnel's /config_dump (workloads, services, policies,
// certificates) and of its Prometheus metrics (connections). Pure: the JSON or text in, rows out.
// The shapes below are the fields read from ztunnel's admin API (a wire contract, not its code).
import { age, fieldColumns, type Column } from '../output/format.pure.js';

interface DumpGateway {
  readonly destination:
    | { readonly kind: 'hostname'; readonly namespace: string; readonly hostname: string }
    | { readonly kind: 'address'; readonly network: string; readonly address: string };
  readonly hbonePort: number;
}
interface DumpWorkload {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly addresses: readonly string[];
  readonly node: string;
  readonly protocol: string;
  readonly trustDomain: string;
  readonly serviceAccount: string;
  readonly waypoint?: DumpGateway;
  readonly status: string;
}
interface DumpService {
  readonly name: string;
  readonly namespace: string;
  readonly hostname: string;
  readonly vips: readonly { readonly network: string; readonly address: string }[];
  readonly ports: readonly { readonly servicePort: number; readonly targetPort: number }[];
  readonly waypoint?: DumpGateway;
  readonly endpoints: Readonly<Record<string, readonly unknown[]>>;
}
interface DumpPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly scope: string;
  readonly action: string;
  readonly rules: readonly unknown[];
  readonly dryRun?: boolean;
}
interface DumpCertificate {
  readonly identity: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly expiresInSeconds: number;
}
export interface ConfigDump {
  readonly workloads: readonly DumpWorkload[];
  readonly services: readonly DumpService[];
  readonly policies: readonly DumpPolicy[];
  readonly certificates: readonly DumpCertificate[];
}

export function parseConfigDump(text: string, source: string): ConfigDump {
  let doc: Partial<ConfigDump>;
  try {
    doc = JSON.parse(text) as Partial<ConfigDump>;
  } catch {
    throw new Error(`${source}: /config_dump is not JSON: ${text.slice(0, 120)}`);
  }
  for (const key of ['workloads', 'services', 'policies', 'certificates'] as const)
    if (!Array.isArray(doc[key]))
      throw new Error(
        `${source}: /config_dump has no "${key}" list; is this a ztunnel admin port?`,
      );
  return doc as ConfigDump;
}

const gatewayText = (g: DumpGateway | undefined) =>
  !g
    ? ''
    : g.destination.kind === 'hostname'
      ? g.destination.hostname.split('.').slice(0, 2).join('.')
      : g.destination.address;

export interface WorkloadRow {
  readonly namespace: string;
  readonly name: string;
  readonly address: string;
  readonly node: string;
  readonly waypoint: string;
  readonly protocol: string;
  readonly identity: string;
  readonly status: string;
}

export function workloadRows(d: ConfigDump, namespace?: string): WorkloadRow[] {
  return d.workloads
    .filter((w) => !namespace || w.namespace === namespace)
    .map((w) => ({
      namespace: w.namespace,
      name: w.name,
      address: w.addresses.join(',') || '-',
      node: w.node || '-',
      waypoint: gatewayText(w.waypoint) || 'None',
      protocol: w.protocol,
      identity: `spiffe://${w.trustDomain}/ns/${w.namespace}/sa/${w.serviceAccount}`,
      status: w.status,
    }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export interface ServiceRow {
  readonly namespace: string;
  readonly name: string;
  readonly vips: string;
  readonly ports: string;
  readonly endpoints: number;
  readonly waypoint: string;
}

export function serviceRows(d: ConfigDump, namespace?: string): ServiceRow[] {
  return d.services
    .filter((s) => !namespace || s.namespace === namespace)
    .map((s) => ({
      namespace: s.namespace,
      name: s.name,
      vips: s.vips.map((v) => v.address).join(',') || '-',
      ports:
        s.ports
          .map((p) =>
            p.targetPort && p.targetPort !== p.servicePort
              ? `${p.servicePort}->${p.targetPort}`
              : String(p.servicePort),
          )
          .join(',') || '-',
      endpoints: Object.keys(s.endpoints).length,
      waypoint: gatewayText(s.waypoint) || 'None',
    }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export interface PolicyRow {
  readonly namespace: string;
  readonly name: string;
  readonly scope: string;
  readonly action: string;
  readonly rules: number;
}

export function policyRows(d: ConfigDump, namespace?: string): PolicyRow[] {
  return d.policies
    .filter((p) => !namespace || p.namespace === namespace)
    .map((p) => ({
      namespace: p.namespace,
      name: p.name,
      scope: p.scope,
      action: `${p.action}${p.dryRun ? ' (dry run)' : ''}`,
      rules: p.rules.length,
    }))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export interface CertificateRow {
  readonly identity: string;
  readonly serial: string;
  readonly notAfter: string;
  readonly expiresInSeconds: number;
  readonly state: string;
}

export function certificateRows(d: ConfigDump): CertificateRow[] {
  return d.certificates.map((c) => ({
    identity: c.identity,
    serial: c.serialNumber,
    notAfter: c.notAfter,
    expiresInSeconds: c.expiresInSeconds,
    state: c.expiresInSeconds <= 0 ? 'EXPIRED' : 'VALID',
  }));
}

/** One sample of a Prometheus text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Parses the Prometheus text format (comments skipped). */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export interface ConnectionRow {
  readonly reporter: string;
  readonly source: string;
  readonly destination: string;
  readonly opened: number;
  readonly closed: number;
  readonly open: number;
  readonly sentBytes: number;
  readonly receivedBytes: number;
}

/** Connections by (reporter, source workload, destination), from Istio's TCP metrics. */
export function connectionRows(samples: readonly Sample[]): ConnectionRow[] {
  const rows = new Map<
    string,
    {
      reporter: string;
      source: string;
      destination: string;
      opened: number;
      closed: number;
      sent: number;
      received: number;
    }
  >();
  for (const s of samples) {
    const field =
      s.name === 'istio_tcp_connections_opened_total'
        ? 'opened'
        : s.name === 'istio_tcp_connections_closed_total'
          ? 'closed'
          : s.name === 'istio_tcp_sent_bytes_total'
            ? 'sent'
            : s.name === 'istio_tcp_received_bytes_total'
              ? 'received'
              : undefined;
    if (!field) continue;
    const l = s.labels;
    const source = `${l['source_workload_namespace'] ?? 'unknown'}/${l['source_workload'] ?? 'unknown'}`;
    const destination =
      l['destination_service'] && l['destination_service'] !== 'unknown'
        ? l['destination_service']
        : `${l['destination_workload_namespace'] ?? 'unknown'}/${l['destination_workload'] ?? 'unknown'}`;
    const reporter = l['reporter'] ?? '-';
    const key = `${reporter}|${source}|${destination}`;
    const row = rows.get(key) ?? {
      reporter,
      source,
      destination,
      opened: 0,
      closed: 0,
      sent: 0,
      received: 0,
    };
    row[field] += s.value;
    rows.set(key, row);
  }
  return [...rows.values()]
    .map((r) => ({
      reporter: r.reporter,
      source: r.source,
      destination: r.destination,
      opened: r.opened,
      closed: r.closed,
      open: Math.max(0, r.opened - r.closed),
      sentBytes: r.sent,
      receivedBytes: r.received,
    }))
    .sort((a, b) => a.source.localeCompare(b.source) || a.destination.localeCompare(b.destination));
}

/** One `trellis ztunnel-config` view: where it reads, how it makes rows, how the table looks. */
export interface ZtunnelView {
  /** 15000 (admin, /config_dump) or 15020 (metrics). */
  readonly port: number;
  readonly path: string;
  rows(text: string, source: string, namespace: string | undefined): object[];
  readonly columns: Column<never>[];
  readonly empty: string;
}

const dumpView = <T>(
  rows: (d: ConfigDump, ns: string | undefined) => T[],
  columns: Column<T>[],
  empty: string,
): ZtunnelView => ({
  port: 15000,
  path: '/config_dump',
  rows: (text, source, ns) => rows(parseConfigDump(text, source), ns) as object[],
  columns: columns as Column<never>[],
  empty,
});

export const ZTUNNEL_VIEWS: Readonly<Record<string, ZtunnelView>> = {
  workloads: dumpView(
    workloadRows,
    fieldColumns<WorkloadRow>('namespace', 'name', 'address', 'node', 'waypoint', 'protocol'),
    'no workloads\n',
  ),
  services: dumpView(
    serviceRows,
    fieldColumns<ServiceRow>('namespace', 'name', 'vips', 'ports', 'endpoints', 'waypoint'),
    'no services\n',
  ),
  policies: dumpView(
    policyRows,
    fieldColumns<PolicyRow>('namespace', 'name', 'scope', 'action', 'rules'),
    'no policies\n',
  ),
  certificates: dumpView(
    (d) => certificateRows(d),
    [
      ...fieldColumns<CertificateRow>('identity', 'state', 'serial'),
      { header: 'expires in', value: (r) => age(r.expiresInSeconds) },
    ],
    'no certificates yet (they are fetched when a pod of an identity first needs one)\n',
  ),
  connections: {
    port: 15020,
    path: '/stats/prometheus',
    rows: (text) => connectionRows(parsePrometheus(text)),
    columns: fieldColumns<ConnectionRow>(
      'reporter',
      'source',
      'destination',
      'open',
      'opened',
      'sentBytes',
      'receivedBytes',
    ) as Column<never>[],
    empty: 'no connections recorded\n',
  },
};
