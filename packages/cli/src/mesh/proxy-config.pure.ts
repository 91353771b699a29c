// `trellis proxy-config` views of a waypoint's or gateway's admin API: the Envoy resources it
// accepted (/config_dump: protobuf JSON, Envoy's field names) as listeners, routes and clusters,
// the hosts of each cluster (/clusters) as endpoints, and its certificates. Pure: JSON in, rows
// out. The shapes below are the fields read (a wire contract: Envoy's v3 API and the waypoint's
// admin documents), not the proxy's code.
import { X509Certificate } from 'node:crypto';
import { age, fieldColumns, type Column } from '../output/format.pure.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** What /config_dump of a waypoint or gateway holds (only the parts read here). */
export interface ProxyConfigDump {
  readonly bootstrap: Json;
  readonly listeners: readonly Json[];
  readonly routes: readonly Json[];
  readonly clusters: readonly Json[];
  readonly secrets: readonly Json[];
}

export function parseProxyConfigDump(text: string, source: string): ProxyConfigDump {
  let doc: Json;
  try {
    doc = obj(JSON.parse(text));
  } catch {
    throw new Error(`${source}: /config_dump is not JSON: ${text.slice(0, 120)}`);
  }
  if (!Array.isArray(doc.listeners) || !Array.isArray(doc.routes))
    throw new Error(
      `${source}: /config_dump has no listeners or routes: not a Trellis waypoint or gateway (for a ztunnel, use trellis ztunnel-config)`,
    );
  return {
    bootstrap: obj(doc.bootstrap),
    listeners: arr(doc.listeners),
    routes: arr(doc.routes),
    clusters: arr(doc.clusters),
    secrets: arr(doc.secrets),
  };
}

// ---- listeners: one row per filter chain

export interface ListenerRow {
  readonly listener: string;
  readonly address: string;
  readonly chain: string;
  readonly match: string;
  readonly destination: string;
}

function chainMatch(m: Json): string {
  const parts: string[] = [];
  if (m.destinationPort !== undefined) parts.push(`port ${String(m.destinationPort)}`);
  const cidrs = (ranges: unknown) =>
    arr(ranges).map((p) => `${str(p.addressPrefix)}/${String(p.prefixLen ?? 0)}`);
  const dst = cidrs(m.prefixRanges);
  if (dst.length) parts.push(`dst ${dst.join(',')}`);
  const src = cidrs(m.sourcePrefixRanges);
  if (src.length) parts.push(`src ${src.join(',')}`);
  if (str(m.transportProtocol)) parts.push(str(m.transportProtocol)!);
  const alpn = (m.applicationProtocols as string[] | undefined) ?? [];
  if (alpn.length) parts.push(`alpn ${alpn.join(',')}`);
  const sni = (m.serverNames as string[] | undefined) ?? [];
  if (sni.length) parts.push(`sni ${sni.join(',')}`);
  return parts.length ? parts.join(' ') : 'ALL';
}

const weighted = (clusters: Json[]): string =>
  clusters.map((c) => `${str(c.name)} (${String(c.weight ?? 1)})`).join(', ');

function chainDestination(filters: Json[]): string {
  const out: string[] = [];
  for (const f of filters) {
    const c = obj(f.typedConfig);
    const name = str(f.name) ?? '';
    if (name.endsWith('http_connection_manager')) {
      const rds = str(obj(c.rds).routeConfigName);
      out.push(rds ? `Route: ${rds}` : `Inline route: ${str(obj(c.routeConfig).name) ?? '-'}`);
    } else if (name.endsWith('tcp_proxy')) {
      const w = arr(obj(c.weightedClusters).clusters);
      out.push(w.length ? `Clusters: ${weighted(w)}` : `Cluster: ${str(c.cluster) ?? '-'}`);
    }
  }
  return out.join('; ') || '-';
}

export function listenerRows(d: ProxyConfigDump): ListenerRow[] {
  const rows: ListenerRow[] = [];
  for (const l of d.listeners) {
    const sa = obj(obj(l.address).socketAddress);
    const address =
      sa.address !== undefined ? `${str(sa.address)}:${String(sa.portValue ?? 0)}` : '-';
    const chains = [...arr(l.filterChains)];
    if (l.defaultFilterChain) chains.push({ ...obj(l.defaultFilterChain), default: true });
    for (const c of chains)
      rows.push({
        listener: str(l.name) ?? '-',
        address,
        chain: c.default ? `${str(c.name) ?? ''} (default)`.trim() : (str(c.name) ?? '-'),
        match: c.default ? 'no other chain matched' : chainMatch(obj(c.filterChainMatch)),
        destination: chainDestination(arr(c.filters)),
      });
  }
  return rows;
}

// ---- routes: one row per route of each virtual host

export interface RouteRow {
  readonly routeConfig: string;
  readonly virtualHost: string;
  readonly domains: string;
  readonly match: string;
  readonly action: string;
  readonly name: string;
}

/**
 * An Envoy StringMatcher as an operator and its value, as CSS attribute selectors write them:
 * "=x" exact, "^=x" prefix, "$=x" suffix, "*=x" contains, "~=re" regex.
 */
function stringMatch(m: Json): string {
  if (m.exact !== undefined) return `=${str(m.exact)}`;
  if (m.prefix !== undefined) return `^=${str(m.prefix)}`;
  if (m.suffix !== undefined) return `$=${str(m.suffix)}`;
  if (m.contains !== undefined) return `*=${str(m.contains)}`;
  if (m.safeRegex !== undefined) return `~=${str(obj(m.safeRegex).regex)}`;
  return '?';
}

function headerMatch(h: Json): string {
  const name = str(h.name) ?? '?';
  const not = h.invertMatch ? '!' : '';
  if (h.presentMatch !== undefined)
    return Boolean(h.presentMatch) !== Boolean(h.invertMatch) ? name : `!${name}`;
  // The deprecated per-kind fields are a StringMatcher spelled out.
  const legacy = {
    exact: h.exactMatch,
    prefix: h.prefixMatch,
    suffix: h.suffixMatch,
    contains: h.containsMatch,
    safeRegex: h.safeRegexMatch,
  };
  const sm = h.stringMatch ?? (Object.values(legacy).some((v) => v !== undefined) && legacy);
  if (sm) return `${not}${name}${stringMatch(obj(sm))}`;
  if (h.rangeMatch !== undefined) {
    const r = obj(h.rangeMatch);
    return `${not}${name} in [${String(r.start)},${String(r.end)})`;
  }
  return `${not}${name}`;
}

function routeMatch(m: Json): string {
  const parts: string[] = [];
  if (m.path !== undefined) parts.push(str(m.path)!);
  else if (m.pathSeparatedPrefix !== undefined) parts.push(`${str(m.pathSeparatedPrefix)}/*`);
  else if (m.prefix !== undefined) parts.push(`${str(m.prefix)}*`);
  else if (m.safeRegex !== undefined) parts.push(`/${str(obj(m.safeRegex).regex)}/`);
  else if (m.pathMatchPolicy !== undefined) parts.push('(path template)');
  if (m.caseSensitive === false) parts.push('(any case)');
  for (const h of arr(m.headers)) parts.push(headerMatch(h));
  for (const q of arr(m.queryParameters)) {
    const name = str(q.name) ?? '?';
    parts.push(
      q.presentMatch
        ? `?${name}`
        : `?${name}${q.stringMatch ? stringMatch(obj(q.stringMatch)) : ''}`,
    );
  }
  if (m.grpc !== undefined) parts.push('(gRPC)');
  return parts.join(' ') || '*';
}

/** Envoy's RedirectResponseCode names as HTTP statuses. */
const REDIRECT_CODES: Readonly<Record<string, number>> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

function routeAction(r: Json): string {
  if (r.route !== undefined) {
    const a = obj(r.route);
    const w = arr(obj(a.weightedClusters).clusters);
    const target = w.length ? weighted(w) : (str(a.cluster) ?? str(a.clusterHeader) ?? '-');
    const mirrors = arr(a.requestMirrorPolicies).map((p) => str(p.cluster));
    return mirrors.length ? `${target}; mirror ${mirrors.join(', ')}` : target;
  }
  if (r.redirect !== undefined) {
    const x = obj(r.redirect);
    const scheme = x.httpsRedirect ? 'https' : str(x.schemeRedirect);
    const where = [
      scheme ? `${scheme}://` : '',
      str(x.hostRedirect) ?? '',
      x.portRedirect !== undefined ? `:${String(x.portRedirect)}` : '',
      str(x.pathRedirect) ?? (x.prefixRewrite !== undefined ? `${str(x.prefixRewrite)}*` : ''),
    ].join('');
    return `redirect ${where || '(same URL)'} ${REDIRECT_CODES[str(x.responseCode) ?? 'MOVED_PERMANENTLY'] ?? str(x.responseCode)}`;
  }
  if (r.directResponse !== undefined)
    return `direct response ${String(obj(r.directResponse).status)}`;
  return '-';
}

export function routeRows(d: ProxyConfigDump): RouteRow[] {
  const rows: RouteRow[] = [];
  for (const rc of d.routes)
    for (const vh of arr(rc.virtualHosts)) {
      const domains = ((vh.domains as string[] | undefined) ?? []).join(',');
      for (const r of arr(vh.routes))
        rows.push({
          routeConfig: str(rc.name) ?? '-',
          virtualHost: str(vh.name) ?? '-',
          domains: domains || '-',
          match: routeMatch(obj(r.match)),
          action: routeAction(r),
          name: str(r.name) ?? '-',
        });
    }
  return rows;
}

// ---- clusters

export interface ClusterRow {
  readonly service: string;
  readonly port: string;
  readonly subset: string;
  readonly direction: string;
  readonly type: string;
  readonly lbPolicy: string;
}

export function clusterRows(d: ProxyConfigDump): ClusterRow[] {
  return d.clusters.map((c) => {
    const name = str(c.name) ?? '-';
    // Istio's names: direction|port|subset|FQDN.
    const parts = name.split('|');
    const istio = parts.length === 4;
    return {
      service: istio ? parts[3]! : name,
      port: istio ? parts[1]! : '-',
      subset: istio && parts[2] ? parts[2] : '-',
      direction: istio ? parts[0]! : '-',
      type: str(c.type) ?? (c.clusterType ? 'CUSTOM' : 'STATIC'),
      lbPolicy: str(c.lbPolicy) ?? 'ROUND_ROBIN',
    };
  });
}

// ---- endpoints: the hosts of /clusters

export interface EndpointRow {
  readonly endpoint: string;
  readonly status: string;
  readonly outlierCheck: string;
  readonly weight: number | undefined;
  readonly cluster: string;
  readonly identity: string;
}

export function endpointRows(text: string, source: string): EndpointRow[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`${source}: /clusters is not JSON: ${text.slice(0, 120)}`);
  }
  if (!Array.isArray(doc)) throw new Error(`${source}: /clusters is not a list of clusters`);
  const rows: EndpointRow[] = [];
  for (const c of doc as Json[])
    for (const h of arr(c.hosts))
      rows.push({
        endpoint: str(h.address) ?? '-',
        status: str(h.health) ?? 'HEALTHY',
        outlierCheck: h.ejected
          ? `EJECTED (${age(Number(h.ejectedForMs ?? 0) / 1000)} left)`
          : 'OK',
        weight: typeof h.weight === 'number' ? h.weight : undefined,
        cluster: str(c.name) ?? '-',
        identity: str(h.identity) ?? (h.hbone ? '-' : 'plain TCP'),
      });
  return rows;
}

// ---- secrets: the proxy's workload certificate, and the certificates it got by SDS (gateways)

export interface SecretRow {
  readonly resource: string;
  readonly type: string;
  readonly identity: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly expiresIn: string;
}

export function secretRows(d: ProxyConfigDump, now: number): SecretRow[] {
  const id = obj(d.bootstrap.identity);
  const expires = (notAfter: string | undefined) =>
    notAfter ? age((Date.parse(notAfter) - now) / 1000) : '-';
  const rows: SecretRow[] = [
    {
      resource: 'default',
      type: 'workload certificate',
      identity: str(id.identity) ?? '-',
      notBefore: str(id.notBefore) ?? 'not issued yet',
      notAfter: str(id.notAfter) ?? '-',
      expiresIn: expires(str(id.notAfter)),
    },
  ];
  for (const s of d.secrets) {
    const tls = obj(s.tlsCertificate);
    const leaf = firstCertificate(obj(tls.certificateChain));
    const iso = (t: string | undefined) => (t ? new Date(t).toISOString() : '-');
    rows.push({
      resource: str(s.name) ?? '-',
      type: s.tlsCertificate ? 'TLS certificate' : s.validationContext ? 'CA bundle' : 'other',
      identity: leaf ? (leaf.subjectAltName ?? leaf.subject.replace(/\n/g, ',')) : '-',
      notBefore: iso(leaf?.validFrom),
      notAfter: iso(leaf?.validTo),
      expiresIn: leaf ? expires(leaf.validTo) : '-',
    });
  }
  return rows;
}

/** The first certificate of an inline DataSource (PEM as inlineString, or inlineBytes base64). */
function firstCertificate(source: Json): X509Certificate | undefined {
  const pem =
    str(source.inlineString) ??
    (str(source.inlineBytes) ? Buffer.from(str(source.inlineBytes)!, 'base64').toString() : '');
  const m = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/.exec(pem);
  if (!m) return undefined;
  try {
    return new X509Certificate(m[0]);
  } catch {
    return undefined;
  }
}

/** One `trellis proxy-config` view: what it reads and how its table looks. */
export interface ProxyView {
  /** /config_dump or /clusters. */
  readonly path: string;
  rows(text: string, source: string, now: number): never[];
  /** What -o json|yaml prints (the Envoy resources themselves, as istioctl does). */
  value(text: string, source: string): unknown;
  readonly columns: Column<never>[];
  readonly empty: string;
}

const dumpView = <T>(
  pick: (d: ProxyConfigDump) => unknown,
  rows: (d: ProxyConfigDump, now: number) => T[],
  columns: Column<T>[],
  empty: string,
): ProxyView => ({
  path: '/config_dump',
  rows: (text, source, now) => rows(parseProxyConfigDump(text, source), now) as never[],
  value: (text, source) => pick(parseProxyConfigDump(text, source)),
  columns: columns as Column<never>[],
  empty,
});

export const PROXY_VIEWS: Readonly<Record<string, ProxyView>> = {
  listeners: dumpView(
    (d) => d.listeners,
    listenerRows,
    fieldColumns<ListenerRow>('listener', 'address', 'chain', 'match', 'destination'),
    'no listeners (has the proxy received its configuration? trellis proxy-status)\n',
  ),
  routes: dumpView(
    (d) => d.routes,
    routeRows,
    fieldColumns<RouteRow>('routeConfig', 'virtualHost', 'domains', 'match', 'action', 'name'),
    'no routes: no Service uses this waypoint yet (istio.io/use-waypoint), or no route is attached to this gateway\n',
  ),
  clusters: dumpView(
    (d) => d.clusters,
    clusterRows,
    fieldColumns<ClusterRow>('service', 'port', 'subset', 'direction', 'type', 'lbPolicy'),
    'no clusters\n',
  ),
  endpoints: {
    path: '/clusters',
    rows: (text, source) => endpointRows(text, source) as never[],
    value: (text) => JSON.parse(text) as unknown,
    columns: fieldColumns<EndpointRow>(
      'endpoint',
      'status',
      'outlierCheck',
      'weight',
      'cluster',
      'identity',
    ) as Column<never>[],
    empty: 'no endpoints\n',
  },
  secret: dumpView(
    (d) => ({ identity: d.bootstrap.identity, secrets: d.secrets }),
    secretRows,
    fieldColumns<SecretRow>('resource', 'type', 'identity', 'notBefore', 'notAfter', 'expiresIn'),
    'no certificates\n',
  ),
};
