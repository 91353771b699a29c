// RouteConfiguration -> RouteTable: virtual hosts, their routes, and the domain index Envoy's
// virtual host selection uses (exact, then the longest "*.suffix", then the longest "prefix.*",
// then "*"). A domain listed twice is refused, as Envoy does. Pure.
import type { RouteConfiguration } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import type { VirtualHost as XdsVirtualHost } from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import type { HostIndex, RouteTable, VirtualHost } from '../model/route.js';
import { convert, invalid, type Converted } from './common.js';
import { headerMutation } from './header-mutation.js';
import { perFilterConfig } from './per-filter.js';
import { retryPolicy } from './retry.js';
import { mirrorPolicies, route } from './route.js';

export function convertRouteConfiguration(rc: RouteConfiguration): Converted<RouteTable> {
  return convert(() => routeTable(rc, `RouteConfiguration ${rc.name}`));
}

export function routeTable(rc: RouteConfiguration, field: string): RouteTable {
  if (rc.vhds) invalid(`${field}.vhds`, 'not supported');
  if (rc.clusterSpecifierPlugins.length > 0)
    invalid(`${field}.cluster_specifier_plugins`, 'not supported');
  const virtualHosts = rc.virtualHosts.map((vh, i) =>
    virtualHost(vh, `${field}.virtual_hosts[${i}](${vh.name})`),
  );
  return {
    name: rc.name,
    virtualHosts,
    requestHeaders: headerMutation(
      rc.requestHeadersToAdd,
      rc.requestHeadersToRemove,
      `${field}.request_headers`,
    ),
    responseHeaders: headerMutation(
      rc.responseHeadersToAdd,
      rc.responseHeadersToRemove,
      `${field}.response_headers`,
    ),
    mirrors: mirrorPolicies(rc.requestMirrorPolicies, `${field}.request_mirror_policies`),
    ignorePortInHostMatching: rc.ignorePortInHostMatching,
    mostSpecificHeaderMutationsWins: rc.mostSpecificHeaderMutationsWins,
    hosts: hostIndex(virtualHosts, field),
  };
}

function virtualHost(vh: XdsVirtualHost, field: string): VirtualHost {
  if (vh.domains.length === 0) invalid(`${field}.domains`, 'at least one domain is required');
  if (vh.matcher) invalid(`${field}.matcher`, 'the generic matcher tree is not supported');
  if (vh.requireTls !== 0) invalid(`${field}.require_tls`, 'not supported');
  if (vh.hedgePolicy) invalid(`${field}.hedge_policy`, 'not supported');
  const retry = vh.retryPolicy ? retryPolicy(vh.retryPolicy, `${field}.retry_policy`) : undefined;
  return {
    name: vh.name,
    domains: vh.domains.map((d) => d.toLowerCase()),
    routes: vh.routes.map((r, i) => route(r, `${field}.routes[${i}](${r.name})`)),
    requestHeaders: headerMutation(
      vh.requestHeadersToAdd,
      vh.requestHeadersToRemove,
      `${field}.request_headers`,
    ),
    responseHeaders: headerMutation(
      vh.responseHeadersToAdd,
      vh.responseHeadersToRemove,
      `${field}.response_headers`,
    ),
    ...(retry ? { retry } : {}),
    mirrors: mirrorPolicies(vh.requestMirrorPolicies, `${field}.request_mirror_policies`),
    perFilter: perFilterConfig(vh.typedPerFilterConfig, `${field}.typed_per_filter_config`),
  };
}

function hostIndex(vhs: readonly VirtualHost[], field: string): HostIndex {
  const exact = new Map<string, VirtualHost>();
  const suffixes: [string, VirtualHost][] = [];
  const prefixes: [string, VirtualHost][] = [];
  let any: VirtualHost | undefined;
  const seen = new Set<string>();
  for (const vh of vhs) {
    for (const d of vh.domains) {
      if (seen.has(d)) invalid(field, `domain "${d}" is in more than one virtual host`);
      seen.add(d);
      if (d === '*') any = vh;
      else if (d.startsWith('*')) suffixes.push([d.slice(1), vh]);
      else if (d.endsWith('*')) prefixes.push([d.slice(0, -1), vh]);
      else if (d.includes('*')) invalid(field, `domain "${d}" has a wildcard in the middle`);
      else exact.set(d, vh);
    }
  }
  suffixes.sort((a, b) => b[0].length - a[0].length);
  prefixes.sort((a, b) => b[0].length - a[0].length);
  return { exact, suffixes, prefixes, ...(any ? { any } : {}) };
}
