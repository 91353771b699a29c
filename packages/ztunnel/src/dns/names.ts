// Which hostnames a query may mean, from the asking pod's point of view (Kubernetes DNS rules, as
// upstream ztunnel applies them): the name itself, its Kubernetes expansions (web -> web.<ns>.svc.
// <domain>, web.ns -> web.ns.svc.<domain>, ...), and the same for the name with one of the pod's
// search domains (<ns>.svc.<domain>, svc.<domain>, <domain>) stripped off; then wildcard forms of
// each (a.b.c -> *.b.c -> *.c). Names are lower-case, without the trailing dot. Pure.

export interface Alias {
  readonly name: string;
  /** Set when the alias came from stripping a search domain: the answer is a CNAME to this. */
  readonly stripped?: string;
}

/** The search list of a pod in `namespace` (what kubelet writes into its resolv.conf). */
export function searchDomains(namespace: string, clusterDomain: string): string[] {
  return [`${namespace}.svc.${clusterDomain}`, `svc.${clusterDomain}`, clusterDomain];
}

function kubeFqdns(name: string, namespace: string, clusterDomain: string): string[] {
  const svcDomain = `svc.${clusterDomain}`;
  const nsDomain = `${namespace}.${svcDomain}`;
  const labels = name.split('.');
  const inSvc = labels.at(-1) === 'svc';
  switch (labels.length) {
    case 1: // a service of the pod's own namespace
      return [`${name}.${nsDomain}`];
    case 2: // <svc>.<ns>, or <pod-hostname>.<subdomain> in the pod's namespace
      return [`${name}.${svcDomain}`, `${name}.${nsDomain}`];
    case 3: // <svc>.<ns>.svc, or <pod-hostname>.<subdomain>.<ns>
      return [...(inSvc ? [`${name}.${clusterDomain}`] : []), `${name}.${svcDomain}`];
    case 4: // <pod-hostname>.<subdomain>.<ns>.svc
      return inSvc ? [`${name}.${clusterDomain}`] : [];
    default:
      return [];
  }
}

/** Every name `name` may stand for, most direct first, without repeats. */
export function aliases(name: string, namespace: string, clusterDomain: string): Alias[] {
  const out: Alias[] = [];
  const seen = new Set<string>();
  const add = (a: Alias) => {
    if (seen.has(a.name)) return;
    seen.add(a.name);
    out.push(a);
  };
  add({ name });
  for (const fqdn of kubeFqdns(name, namespace, clusterDomain)) add({ name: fqdn });
  for (const domain of searchDomains(namespace, clusterDomain)) {
    if (!name.endsWith(`.${domain}`)) continue;
    const stripped = name.slice(0, -domain.length - 1);
    add({ name: stripped, stripped });
    for (const fqdn of kubeFqdns(stripped, namespace, clusterDomain)) add({ name: fqdn, stripped });
  }
  return out;
}

/** The name, then wildcards of decreasing specificity: a.b.c -> *.b.c -> *.c. */
export function wildcards(name: string): string[] {
  const out = [name];
  let rest = name;
  for (let dot = rest.indexOf('.'); dot >= 0; dot = rest.indexOf('.')) {
    rest = rest.slice(dot + 1);
    out.push(`*.${rest}`);
  }
  return out;
}
