// The resolv.conf a kubelet gives a pod, by dnsPolicy: ClusterFirst (cluster DNS, the
// <ns>.svc/svc/cluster search list plus the node's, ndots:5; like Default for hostNetwork pods),
// ClusterFirstWithHostNet (cluster DNS even on the host network), Default (the node's resolv.conf)
// and None (only dnsConfig). dnsConfig adds nameservers and searches and overrides options.

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: Array<{ name: string; value?: string }>;
}

export interface DnsSettings {
  clusterDNS: string[];
  clusterDomain: string;
  /** The node's own resolv.conf text (the kubelet's --resolv-conf). */
  nodeResolvConf: string;
}

const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

export function parseResolvConf(text: string): ResolvConf {
  const r: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) r.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') r.searches = rest;
    else if (key === 'options') r.options.push(...rest.map(parseOption));
  }
  return r;
}

function parseOption(o: string): { name: string; value?: string } {
  const i = o.indexOf(':');
  return i < 0 ? { name: o } : { name: o.slice(0, i), value: o.slice(i + 1) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function podResolvConf(pod: any, s: DnsSettings): ResolvConf {
  const policy: string = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const node = parseResolvConf(s.nodeResolvConf);
  const ns: string = pod.metadata?.namespace ?? 'default';
  const clusterFirst =
    s.clusterDNS.length > 0 &&
    ((policy === 'ClusterFirst' && !pod.spec?.hostNetwork) || policy === 'ClusterFirstWithHostNet');
  let base: ResolvConf;
  if (policy === 'None') base = { nameservers: [], searches: [], options: [] };
  else if (clusterFirst)
    base = {
      nameservers: [...s.clusterDNS],
      searches: [
        `${ns}.svc.${s.clusterDomain}`,
        `svc.${s.clusterDomain}`,
        s.clusterDomain,
        ...node.searches,
      ],
      options: [{ name: 'ndots', value: '5' }],
    };
  else base = node;
  const cfg = pod.spec?.dnsConfig ?? {};
  const options = [...base.options];
  for (const o of (cfg.options ?? []) as Array<{ name: string; value?: string }>) {
    const i = options.findIndex((x) => x.name === o.name);
    const opt = o.value === undefined ? { name: o.name } : { name: o.name, value: o.value };
    if (i >= 0) options[i] = opt;
    else options.push(opt);
  }
  return {
    nameservers: dedupe([...base.nameservers, ...(cfg.nameservers ?? [])]).slice(
      0,
      MAX_NAMESERVERS,
    ),
    searches: dedupe([...base.searches, ...(cfg.searches ?? [])]).slice(0, MAX_SEARCHES),
    options,
  };
}

/** Why a pod's DNS settings cannot work, as the API validation would say (None needs a nameserver). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function dnsProblem(pod: any): string | undefined {
  if (pod.spec?.dnsPolicy === 'None' && !(pod.spec?.dnsConfig?.nameservers ?? []).length)
    return 'dnsPolicy None needs at least one dnsConfig.nameservers entry';
  return undefined;
}

export function renderResolvConf(r: ResolvConf): string {
  const lines: string[] = [];
  if (r.searches.length) lines.push(`search ${r.searches.join(' ')}`);
  for (const n of r.nameservers) lines.push(`nameserver ${n}`);
  if (r.options.length)
    lines.push(
      `options ${r.options.map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`)).join(' ')}`,
    );
  return lines.join('\n') + '\n';
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs.filter(Boolean))];
}
