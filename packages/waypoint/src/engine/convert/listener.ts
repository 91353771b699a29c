// Listener -> ListenerModel: filter chains with their match criteria, network RBAC, and the
// terminal filter (HTTP connection manager or TCP proxy). Pure.
import { isMessage } from '@bufbuild/protobuf';
import type { CidrRange } from '@trellis/api/gen/envoy/config/core/v3/address_pb.js';
import type {
  FilterChain,
  FilterChainMatch,
} from '@trellis/api/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { Listener } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { RBACSchema as NetworkRbacSchema } from '@trellis/api/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import {
  TcpProxySchema,
  type TcpProxy,
} from '@trellis/api/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type {
  ChainMatch,
  FilterChainModel,
  ListenerModel,
  TcpProxyConfig,
  TerminalFilter,
} from '../model/listener.js';
import { cidrPredicate } from '../net/cidr.pure.js';
import { compileRbac, type RbacEngine } from '../rbac/compile.js';
import { convert, durationMs, invalid, unpackTyped, type Converted } from './common.js';
import { downstreamTls } from './downstream-tls.js';
import { httpManager } from './http-manager.js';

/** Listener filters that only detect what the chain match reads; accepted and implied. */
const KNOWN_LISTENER_FILTERS = new Set([
  'envoy.filters.listener.tls_inspector',
  'envoy.filters.listener.http_inspector',
  'envoy.filters.listener.original_dst',
  'istio.filters.listener.metadata_to_peer_node',
]);

export function convertListener(l: Listener): Converted<ListenerModel> {
  return convert(() => listener(l, `Listener ${l.name}`));
}

function listener(l: Listener, field: string): ListenerModel {
  if (l.name === '') invalid(`${field}.name`, 'is empty');
  if (l.filterChainMatcher)
    invalid(`${field}.filter_chain_matcher`, 'not supported (use filter_chain_match)');
  if (l.apiListener) invalid(`${field}.api_listener`, 'not supported');
  for (const [i, f] of l.listenerFilters.entries()) {
    if (!KNOWN_LISTENER_FILTERS.has(f.name))
      invalid(`${field}.listener_filters[${i}]`, `listener filter "${f.name}" is not supported`);
  }
  let address: ListenerModel['address'];
  const a = l.address?.address;
  if (a?.case === 'socketAddress') {
    const pv = a.value.portSpecifier;
    address = { ip: a.value.address, port: pv.case === 'portValue' ? pv.value : 0 };
  } else if (a !== undefined && a.case !== undefined) {
    invalid(`${field}.address`, `${a.case} is not supported`);
  }
  const chains = l.filterChains.map((c, i) => chain(c, `${field}.filter_chains[${i}](${c.name})`));
  if (chains.length === 0 && !l.defaultFilterChain) invalid(field, 'no filter chains');
  const defaultChain = l.defaultFilterChain
    ? chain(l.defaultFilterChain, `${field}.default_filter_chain`)
    : undefined;
  return {
    name: l.name,
    ...(address ? { address } : {}),
    chains,
    ...(defaultChain ? { defaultChain } : {}),
  };
}

function ranges(list: readonly CidrRange[], field: string): ChainMatch['prefixRanges'] {
  return list.map((c, i) => {
    try {
      return {
        test: cidrPredicate(c.addressPrefix, c.prefixLen),
        len: c.prefixLen ?? (c.addressPrefix.includes(':') ? 128 : 32),
      };
    } catch (err) {
      invalid(`${field}[${i}]`, (err as Error).message);
    }
  });
}

function chainMatch(m: FilterChainMatch | undefined, field: string): ChainMatch {
  if (!m) {
    return {
      prefixRanges: [],
      sourcePrefixRanges: [],
      sourcePorts: [],
      serverNames: [],
      transportProtocol: '',
      applicationProtocols: [],
    };
  }
  if (m.directSourcePrefixRanges.length > 0)
    invalid(`${field}.direct_source_prefix_ranges`, 'not supported');
  if (m.sourceType !== 0) invalid(`${field}.source_type`, 'not supported');
  if (m.addressSuffix !== '') invalid(`${field}.address_suffix`, 'not supported');
  return {
    ...(m.destinationPort !== undefined ? { destinationPort: m.destinationPort } : {}),
    prefixRanges: ranges(m.prefixRanges, `${field}.prefix_ranges`),
    sourcePrefixRanges: ranges(m.sourcePrefixRanges, `${field}.source_prefix_ranges`),
    sourcePorts: [...m.sourcePorts],
    serverNames: m.serverNames.map((s) => s.toLowerCase()),
    transportProtocol: m.transportProtocol,
    applicationProtocols: [...m.applicationProtocols],
  };
}

function chain(c: FilterChain, field: string): FilterChainModel {
  const tls = c.transportSocket
    ? downstreamTls(c.transportSocket, `${field}.transport_socket`)
    : undefined;
  if (c.useProxyProto) invalid(`${field}.use_proxy_proto`, 'not supported');
  const networkRbac: { rules?: RbacEngine; shadow?: RbacEngine }[] = [];
  let terminal: TerminalFilter | undefined;
  for (const [i, f] of c.filters.entries()) {
    const ff = `${field}.filters[${i}](${f.name})`;
    if (terminal) invalid(ff, 'a filter after the terminal filter');
    if (f.configType.case !== 'typedConfig') invalid(ff, 'typed_config is required');
    const m = unpackTyped(f.configType.value, `${ff}.typed_config`);
    if (isMessage(m, NetworkRbacSchema)) {
      if (m.matcher || m.shadowMatcher) invalid(ff, 'RBAC matchers are not supported; use rules');
      networkRbac.push({
        ...(m.rules ? { rules: compileRbac(m.rules, `${ff}.rules`) } : {}),
        ...(m.shadowRules ? { shadow: compileRbac(m.shadowRules, `${ff}.shadow_rules`) } : {}),
      });
    } else if (isMessage(m, TcpProxySchema)) {
      terminal = { kind: 'tcp', tcp: tcpProxy(m, ff) };
    } else if (
      m.$typeName ===
      'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'
    ) {
      terminal = { kind: 'http', http: httpManager(m, ff) };
    } else {
      invalid(ff, `network filter type ${m.$typeName} is not supported`);
    }
  }
  if (!terminal)
    invalid(`${field}.filters`, 'no terminal filter (http_connection_manager or tcp_proxy)');
  return {
    name: c.name,
    match: chainMatch(c.filterChainMatch, `${field}.filter_chain_match`),
    networkRbac,
    terminal,
    ...(tls ? { tls } : {}),
  };
}

function tcpProxy(t: TcpProxy, field: string): TcpProxyConfig {
  const targets: { cluster: string; weight: number }[] = [];
  const c = t.clusterSpecifier;
  if (c.case === 'cluster') {
    if (c.value === '') invalid(`${field}.cluster`, 'is empty');
    targets.push({ cluster: c.value, weight: 1 });
  } else if (c.case === 'weightedClusters') {
    for (const [i, w] of c.value.clusters.entries()) {
      if (w.name === '') invalid(`${field}.weighted_clusters.clusters[${i}].name`, 'is empty');
      targets.push({ cluster: w.name, weight: w.weight });
    }
  } else {
    invalid(field, 'cluster or weighted_clusters is required');
  }
  const totalWeight = targets.reduce((s, x) => s + x.weight, 0);
  if (totalWeight === 0) invalid(`${field}.weighted_clusters`, 'the weights sum to 0');
  if (t.tunnelingConfig) invalid(`${field}.tunneling_config`, 'not supported');
  if (t.onDemand) invalid(`${field}.on_demand`, 'not supported');
  return {
    statPrefix: t.statPrefix,
    targets,
    totalWeight,
    // Envoy's default TCP idle timeout is 1 hour.
    idleTimeoutMs: durationMs(t.idleTimeout, `${field}.idle_timeout`) ?? 3_600_000,
    maxConnectAttempts: t.maxConnectAttempts ?? 1,
  };
}
