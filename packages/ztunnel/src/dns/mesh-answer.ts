// The answer ztunnel gives itself for a query about a mesh service, from the state store (WDS):
// A/AAAA records of the service's VIPs in the client's network (a headless service: its
// endpoints' addresses), a CNAME first when the name matched only after a search domain was
// stripped; an empty authoritative answer when the service exists but has no address of that
// family. Anything else is forwarded upstream. Pure.
import type { Endpoint } from '../state/load-balance.js';
import type { Service } from '../state/model.js';
import { TYPE, type Answer } from './message.js';
import { aliases, wildcards } from './names.js';

/** Upstream ztunnel's TTL for the records it answers. */
export const MESH_TTL_SECONDS = 30;

export interface MeshView {
  servicesByHost(hostname: string): Service[];
  endpointsOf(service: Service): Endpoint[];
}

export interface DnsClient {
  readonly namespace: string;
  readonly network: string;
}

export interface MeshDnsOptions {
  readonly clusterDomain: string;
  /** AAAA answers at all (upstream's IPv6 switch). */
  readonly ipv6: boolean;
}

export type MeshAnswer =
  | { readonly kind: 'forward' }
  | { readonly kind: 'answer'; readonly service: Service; readonly answers: readonly Answer[] };

const family = (ip: string) => (ip.includes(':') ? TYPE.AAAA : TYPE.A);

/** The service `name` means for `client`, and the name it matched under. */
function findService(
  view: MeshView,
  name: string,
  client: DnsClient,
  clusterDomain: string,
): { service: Service; matched: string; stripped?: string } | undefined {
  const headlessSuffix = `.svc.${clusterDomain}`;
  for (const alias of aliases(name, client.namespace, clusterDomain)) {
    for (const host of wildcards(alias.name)) {
      const candidates = view
        .servicesByHost(host)
        // Without a VIP only a Kubernetes headless service is ours to answer; others go upstream.
        .filter((s) => s.vips.length > 0 || s.hostname.endsWith(headlessSuffix))
        .filter((s) => s.visibility === 'Public' || s.namespace === client.namespace);
      const service = candidates.find((s) => s.namespace === client.namespace) ?? candidates[0];
      if (service)
        return {
          service,
          matched: host,
          ...(alias.stripped !== undefined ? { stripped: alias.stripped } : {}),
        };
    }
  }
  return undefined;
}

export function meshAnswer(
  view: MeshView,
  question: { name: string; rawName: string; type: number },
  client: DnsClient,
  opts: MeshDnsOptions,
): MeshAnswer {
  if (question.type !== TYPE.A && question.type !== TYPE.AAAA) return { kind: 'forward' };
  const found = findService(view, question.name, client, opts.clusterDomain);
  if (!found) return { kind: 'forward' };
  const { service } = found;
  const type = question.type;
  const familyAllowed =
    (type === TYPE.A || opts.ipv6) &&
    !(service.ipFamilies === 'IPv4Only' && type === TYPE.AAAA) &&
    !(service.ipFamilies === 'IPv6Only' && type === TYPE.A);
  if (!familyAllowed) return { kind: 'answer', service, answers: [] };
  const addresses =
    service.vips.length > 0
      ? service.vips
          .filter((v) => v.network === client.network && family(v.address) === type)
          .map((v) => v.address)
      : view
          .endpointsOf(service)
          .map((e) => e.workload.addresses.find((ip) => family(ip) === type))
          .filter((ip): ip is string => ip !== undefined);
  if (addresses.length === 0) return { kind: 'answer', service, answers: [] };
  const answers: Answer[] = [];
  let owner = question.rawName;
  if (found.stripped !== undefined && !found.matched.startsWith('*.')) {
    answers.push({ name: owner, type: TYPE.CNAME, ttl: MESH_TTL_SECONDS, data: found.stripped });
    owner = found.stripped;
  }
  for (const ip of addresses) answers.push({ name: owner, type, ttl: MESH_TTL_SECONDS, data: ip });
  return { kind: 'answer', service, answers };
}
