// The Envoy resources of an ingress gateway (a Gateway of one of `gatewayClasses`), served to its
// pods (node id `router~...`): the waypoint's route translation in the gateway role. Per port of
// its programmed listeners (gateway-listeners.ts) one Listener `0.0.0.0_<port>` on 0.0.0.0:<port>:
// - HTTP: one chain, HttpConnectionManager with RDS `http.<port>`: a virtual host per hostname
//   of the routes attached to the port's HTTP listeners.
// - HTTPS (TLS termination): a chain per listener, matched by `server_names` (its hostname; none:
//   any SNI), a DownstreamTlsContext whose certificates come by SDS (`kubernetes://<ns>/<name>`,
//   over ADS), and RDS `https.<port>.<listener>.<gateway>.<namespace>`, which answers 421 for
//   the hostnames of the port's other HTTPS listeners (misdirected requests).
// - TLS: a chain per attached TLSRoute matched by its hostnames, tcp_proxy to its backends; an
//   invalid backend's share goes to a cluster never served (closed connections). In mode
//   Passthrough the bytes go on untouched; in mode Terminate the chain has the listener's
//   DownstreamTlsContext (no ALPN) and the backend gets the decrypted stream. Both modes can
//   share a port (chosen by SNI).
// - TCP: tcp_proxy to the backends of the oldest attached TCPRoute, likewise.
// Clusters and endpoints are the waypoint's (`outbound|<port>||<host>`, EDS, HBONE metadata for
// mesh endpoints), with the TLS of a BackendTLSPolicy targeting the Service port (backend-tls.ts); the SDS Secrets are the listeners' certificates that resolved (same namespace
// or granted). Pure.
import { create } from '@bufbuild/protobuf';
import { packAny } from '@trellis/api';
import type { Cluster } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  DataSourceSchema,
  TransportSocketSchema,
} from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import {
  ClusterLoadAssignmentSchema,
  type ClusterLoadAssignment,
} from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import {
  FilterChainMatchSchema,
  FilterChainSchema,
  FilterSchema,
  ListenerFilterSchema,
  type FilterChain,
} from '@trellis/api/gen/envoy/config/listener/v3/listener_components_pb.js';
import {
  ListenerSchema,
  type Listener,
} from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import {
  DirectResponseActionSchema,
  RouteMatchSchema,
  RouteSchema,
  VirtualHostSchema,
  type Route,
  type VirtualHost,
} from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import {
  RouteConfigurationSchema,
  type RouteConfiguration,
} from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { TlsInspectorSchema } from '@trellis/api/gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import {
  TcpProxy_WeightedCluster_ClusterWeightSchema,
  TcpProxy_WeightedClusterSchema,
  TcpProxySchema,
  type TcpProxy,
} from '@trellis/api/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import {
  SdsSecretConfigSchema,
  SecretSchema,
  type Secret,
} from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import {
  CertificateValidationContext_TrustChainVerification,
  CertificateValidationContextSchema,
  TlsCertificateSchema,
} from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  CommonTlsContextSchema,
  DownstreamTlsContextSchema,
} from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { SortedMap } from '../../collections/sorted-map.js';
import type { Gateway, GatewayListener, L4RouteRule } from '../../model/gateway-api.js';
import { backendTlsPolicies } from './backend-tls.js';
import { backendCluster, unservedCluster } from './backends.js';
import { adsConfigSource, socketAddress } from './common.js';
import { speaksHttp2 } from './clusters.js';
import { clusterLoadAssignment } from './endpoints.js';
import { gatewayDecision, type ListenerDecision } from './gateway-listeners.js';
import { hcmFilter } from './listeners.js';
import { corsFilter, usesCors } from './cors.js';
import { NoteSink } from './notes.js';
import type { EnvoyResources } from './resources.js';
import { hostnameIntersection, routeAttachments, type AttachedRoute } from './route-attachment.js';
import { attachedRouteEntries } from './route-config.js';
import type { RouteContext } from './route-context.js';
import type { EnvoyState } from './state.js';
import { addHashPolicies, noteTrafficPolicies, waypointCluster } from './traffic-policy.js';
import type { WorkloadIndex } from './workload-index.js';
import { ingressWaypointAssignment } from './ingress-waypoint.js';

/** Listener of one gateway port (Istio's name). */
export const gatewayListenerName = (port: number) => `0.0.0.0_${port}`;
/** RDS of the plain HTTP listeners of one port. */
export const httpRouteConfigName = (port: number) => `http.${port}`;
/** RDS of one HTTPS listener. */
export const httpsRouteConfigName = (port: number, listener: string, gw: Gateway) =>
  `https.${port}.${listener}.${gw.metadata.name}.${gw.metadata.namespace}`;

const TLS_INSPECTOR = 'envoy.filters.listener.tls_inspector';

export function gatewayResources(
  state: EnvoyState,
  gw: Gateway,
  index: WorkloadIndex,
): Required<EnvoyResources> {
  const decision = gatewayDecision(state, gw);
  const attached = routeAttachments(state).forGateway(decision.key);
  const notes = new NoteSink();
  const ctx: RouteContext = {
    target: 'envoy',
    services: state.services,
    domainSuffix: state.options.domainSuffix,
    notes,
    clusters: new Map(),
    referenceGrants: state.referenceGrants ?? [],
  };
  const onListener = (name: string) => attached.filter((r) => r.listeners?.includes(name));

  const byPort = new Map<number, ListenerDecision[]>();
  for (const d of decision.listeners) {
    if (!d.programmed) continue;
    const list = byPort.get(d.listener.port);
    if (list) list.push(d);
    else byPort.set(d.listener.port, [d]);
  }
  const listeners = new Map<string, Listener>();
  const routes = new Map<string, RouteConfiguration>();
  for (const [port, decisions] of [...byPort].sort(([a], [b]) => a - b)) {
    const chains: FilterChain[] = [];
    const group = decisions[0]!.group;
    if (group === 'http') {
      const rds = httpRouteConfigName(port);
      const config = routeConfig(rds, port, decisions, onListener, ctx);
      routes.set(rds, config);
      chains.push(hcmChain(rds, config));
    } else if (group === 'tls') {
      const sni = new Set<string>();
      for (const d of decisions) {
        const l = d.listener;
        if (l.protocol === 'HTTPS') {
          const rds = httpsRouteConfigName(port, l.name, gw);
          const terminating = decisions
            .filter((o) => o.listener.protocol === 'HTTPS')
            .map((o) => o.listener);
          const config = routeConfig(rds, port, [d], onListener, ctx, terminating);
          routes.set(rds, config);
          const chain = hcmChain(rds, config);
          chain.filterChainMatch = create(FilterChainMatchSchema, {
            serverNames: l.hostname !== undefined ? [l.hostname] : [],
          });
          chain.transportSocket = downstreamTls(d.certificates, ['h2', 'http/1.1'], d);
          chains.push(chain);
          continue;
        }
        for (const r of byAge(onListener(l.name))) {
          const names = routeHostnames(l.hostname, r.object.spec.hostnames).filter((h) => {
            if (sni.has(h)) {
              notes.add(
                r.kind,
                `${r.namespace}/${r.name}`,
                `hostname ${h} on port ${port} is already served by an older route`,
              );
              return false;
            }
            return true;
          });
          if (names.length === 0) continue;
          for (const h of names) sni.add(h);
          const name = `tls.${port}.${r.namespace}.${r.name}`;
          const proxy = tcpProxy(name, r, ctx);
          chains.push(
            create(FilterChainSchema, {
              name,
              filterChainMatch: create(FilterChainMatchSchema, {
                serverNames: names.includes('*') ? [] : names,
              }),
              filters: [tcpProxyFilter(proxy)],
              // Mode Terminate: the backend gets the decrypted stream.
              ...(d.passthrough ? {} : { transportSocket: downstreamTls(d.certificates, []) }),
            }),
          );
        }
      }
    } else if (group === 'tcp') {
      const r = byAge(onListener(decisions[0]!.listener.name))[0];
      const name = `tcp.${port}`;
      if (r) {
        const proxy = tcpProxy(name, r, ctx);
        chains.push(create(FilterChainSchema, { name, filters: [tcpProxyFilter(proxy)] }));
      }
    }
    if (chains.length === 0) continue;
    const name = gatewayListenerName(port);
    listeners.set(
      name,
      create(ListenerSchema, {
        name,
        address: socketAddress('0.0.0.0', port),
        filterChains: chains,
        listenerFilters:
          group === 'tls'
            ? [
                create(ListenerFilterSchema, {
                  name: TLS_INSPECTOR,
                  configType: {
                    case: 'typedConfig',
                    value: packAny(TlsInspectorSchema, create(TlsInspectorSchema)),
                  },
                }),
              ]
            : [],
      }),
    );
  }

  const destinationRules = state.destinationRules ?? [];
  const root = state.options.rootNamespace;
  addHashPolicies([...routes.values()], ctx.clusters, destinationRules, root);
  noteTrafficPolicies(ctx.clusters, destinationRules, root, notes);
  const clusters = new Map<string, Cluster>();
  const tlsPolicies = backendTlsPolicies(state);
  const endpoints = new Map<string, ClusterLoadAssignment>();
  for (const [name, ref] of ctx.clusters) {
    const cluster = waypointCluster(ref, destinationRules, root);
    const backendTls = tlsPolicies.forCluster(
      ref.service,
      ref.port,
      speaksHttp2(ref.port),
      decision.backendClientCertificate,
    );
    if (backendTls && 'socket' in backendTls) cluster.transportSocket = backendTls.socket;
    clusters.set(name, cluster);
    if (backendTls && 'refused' in backendTls) {
      notes.add(
        'BackendTLSPolicy',
        backendTls.refused,
        `not accepted (${backendTls.reason}): cluster ${name} has no endpoints, its requests fail`,
      );
      endpoints.set(name, create(ClusterLoadAssignmentSchema, { clusterName: name }));
      continue;
    }
    endpoints.set(
      name,
      ref.service.ingressUseWaypoint && ref.service.waypoint
        ? ingressWaypointAssignment(name, ref, state, index)
        : clusterLoadAssignment(name, ref.service, ref.port, index.workloadsOf(ref.service.key), {
            meshMetadata: true,
          }),
    );
  }
  const secrets = new Map<string, Secret>();
  const byName = new Map(
    (state.secrets ?? []).map((s) => [
      `kubernetes://${s.metadata.namespace}/${s.metadata.name}`,
      s,
    ]),
  );
  for (const d of decision.listeners)
    if (d.programmed)
      for (const name of d.certificates) {
        const s = byName.get(name);
        if (s && !secrets.has(name))
          secrets.set(name, sdsSecret(name, s.certificateChain!, s.privateKey!));
      }
  const sorted = <T>(m: Map<string, T>) => SortedMap.from<T>([...m]);
  return {
    listeners: sorted(listeners),
    routes: sorted(routes),
    clusters: sorted(clusters),
    endpoints: sorted(endpoints),
    secrets: sorted(secrets),
    notes: notes.notes,
  };
}

/** Oldest first, then namespace/name (Gateway API's tie-breaking). */
function byAge(routes: readonly AttachedRoute[]): AttachedRoute[] {
  return [...routes].sort(
    (a, b) =>
      a.createdMs - b.createdMs ||
      (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1),
  );
}

/** The hostnames a route serves under a listener: `*` when neither names any. */
function routeHostnames(listener: string | undefined, route: readonly string[]): string[] {
  if (route.length === 0) return [listener ?? '*'];
  if (listener === undefined) return [...route];
  return [...new Set(route.flatMap((h) => hostnameIntersection(listener, h) ?? []))];
}

/**
 * A route configuration with one virtual host per hostname the listeners' routes serve. Listeners
 * sharing the port are isolated (Gateway API): a request goes to the most specific listener whose
 * hostname matches it, and only that listener's routes serve it. So a route hostname that a more
 * specific listener covers entirely is left out, and every listener's hostname has a virtual host
 * (empty when no route serves it) that the more specific match picks over a wider one.
 *
 * `sniListeners` (an HTTPS listener's own configuration: its connections chose it by SNI): the
 * port's terminating listeners. A request whose Host belongs to another of them (a more specific
 * listener's hostname, or anything outside the listener's own hostname) is misdirected and gets
 * 421 (Gateway API's GatewayHTTPSListenerDetectMisdirectedRequests; RFC 9110 15.5.20), so a client
 * that reused one connection for another name retries on a new one.
 */
function routeConfig(
  name: string,
  port: number,
  decisions: readonly ListenerDecision[],
  onListener: (listener: string) => AttachedRoute[],
  ctx: RouteContext,
  sniListeners?: readonly GatewayListener[],
): RouteConfiguration {
  const byHost = new Map<string, AttachedRoute[]>();
  const listenerHosts = (sniListeners ?? decisions.map((d) => d.listener)).map((l) => l.hostname);
  if (decisions.length > 1) for (const h of listenerHosts) byHost.set(h ?? '*', []);
  for (const d of decisions)
    for (const r of onListener(d.listener.name)) {
      if (r.kind !== 'HTTPRoute' && r.kind !== 'GRPCRoute') continue;
      for (const h of routeHostnames(d.listener.hostname, r.object.spec.hostnames)) {
        if (claimedByNarrowerListener(listenerHosts, d.listener.hostname, h)) continue;
        const list = byHost.get(h) ?? [];
        if (!list.includes(r)) list.push(r);
        byHost.set(h, list);
      }
    }
  const misdirected = sniListeners
    ? misdirectedHosts(decisions[0]!.listener.hostname, sniListeners, byHost)
    : [];
  const virtualHosts: VirtualHost[] = [...byHost.keys(), ...misdirected].sort().map((host) =>
    create(VirtualHostSchema, {
      name: `${host}:${port}`,
      domains: host === '*' ? ['*'] : [host, `${host}:${port}`],
      routes: byHost.has(host)
        ? attachedRouteEntries(byHost.get(host)!, ctx)
        : [misdirectedRoute()],
    }),
  );
  return create(RouteConfigurationSchema, { name, virtualHosts });
}

/**
 * The hostnames an HTTPS listener (hostname `own`, none: any) answers 421 for: the other
 * listeners' hostnames it would otherwise cover (requests for them belong to those listeners),
 * and `*` (any other name) when it has a hostname of its own, whose names not served by a route
 * keep an empty virtual host (404).
 */
function misdirectedHosts(
  own: string | undefined,
  listeners: readonly GatewayListener[],
  byHost: Map<string, AttachedRoute[]>,
): string[] {
  const covers = (pattern: string, h: string) => hostnameIntersection(pattern, h) === h;
  const out = new Set<string>();
  for (const l of listeners) {
    const o = l.hostname;
    if (o !== undefined && o !== own && (own === undefined || covers(own, o))) out.add(o);
  }
  if (own !== undefined) {
    if (!byHost.has(own)) byHost.set(own, []);
    out.add('*');
  }
  return [...out].filter((h) => !byHost.has(h));
}

/** Any request on a misdirected virtual host: 421 Misdirected Request. */
function misdirectedRoute(): Route {
  return create(RouteSchema, {
    name: 'misdirected-request',
    match: create(RouteMatchSchema, { pathSpecifier: { case: 'prefix', value: '/' } }),
    action: {
      case: 'directResponse',
      value: create(DirectResponseActionSchema, { status: 421 }),
    },
  });
}

/** Whether every name `host` matches is covered by a listener hostname narrower than `own` (none: any). */
function claimedByNarrowerListener(
  listenerHosts: readonly (string | undefined)[],
  own: string | undefined,
  host: string,
): boolean {
  const covers = (pattern: string, h: string) => hostnameIntersection(pattern, h) === h;
  return listenerHosts.some(
    (o) => o !== undefined && o !== own && (own === undefined || covers(own, o)) && covers(o, host),
  );
}

/** The chain serving `config` (by RDS), with the CORS filter when one of its routes has a policy. */
function hcmChain(name: string, config: RouteConfiguration): FilterChain {
  const filters = usesCors(config) ? [corsFilter()] : [];
  return create(FilterChainSchema, {
    name,
    filters: [hcmFilter(name, config.name, filters, true)],
  });
}

/**
 * TLS termination with the listener's certificates fetched by SDS over ADS, offering `alpn`;
 * with its client certificate validation (spec.tls.frontend): the CAs inline, a certificate
 * required unless the mode is AllowInsecureFallback (then one that does not verify is accepted
 * too, Envoy's ACCEPT_UNTRUSTED).
 */
function downstreamTls(
  certificates: readonly string[],
  alpn: readonly string[],
  d?: Pick<ListenerDecision, 'clientValidation'>,
) {
  const v = d?.clientValidation;
  const context = create(DownstreamTlsContextSchema, {
    ...(v && !v.insecureFallback ? { requireClientCertificate: true } : {}),
    commonTlsContext: create(CommonTlsContextSchema, {
      ...(v
        ? {
            validationContextType: {
              case: 'validationContext' as const,
              value: create(CertificateValidationContextSchema, {
                trustedCa: create(DataSourceSchema, {
                  specifier: { case: 'inlineString', value: v.caPem },
                }),
                ...(v.insecureFallback
                  ? {
                      trustChainVerification:
                        CertificateValidationContext_TrustChainVerification.ACCEPT_UNTRUSTED,
                    }
                  : {}),
              }),
            },
          }
        : {}),
      alpnProtocols: [...alpn],
      tlsCertificateSdsSecretConfigs: certificates.map((name) =>
        create(SdsSecretConfigSchema, { name, sdsConfig: adsConfigSource() }),
      ),
    }),
  });
  return create(TransportSocketSchema, {
    name: 'envoy.transport_sockets.tls',
    configType: { case: 'typedConfig', value: packAny(DownstreamTlsContextSchema, context) },
  });
}

/**
 * tcp_proxy to the route's backends (weighted). The share of an invalid backend (unknown kind,
 * not permitted) goes to a cluster that is never served, so those connections are accepted and
 * then closed, as Gateway API asks; so do all of them when no backend can receive traffic.
 */
function tcpProxy(statPrefix: string, r: AttachedRoute, ctx: RouteContext): TcpProxy {
  const weighted = new Map<string, number>();
  const object = `${r.namespace}/${r.name}`;
  const add = (cluster: string, weight: number) =>
    weighted.set(cluster, (weighted.get(cluster) ?? 0) + weight);
  for (const rule of r.object.spec.rules as readonly L4RouteRule[])
    for (const ref of rule.backendRefs) {
      const c = backendCluster(ref, r, ctx);
      if ('problem' in c) {
        ctx.notes.add(r.kind, object, `${c.problem}; its share of connections is closed`);
        if (ref.weight > 0) add(unservedCluster(r), ref.weight);
        continue;
      }
      if (ref.weight > 0) add(c.cluster, ref.weight);
    }
  if (weighted.size === 0) {
    ctx.notes.add(r.kind, object, 'no backend can receive traffic; connections are closed');
    add(unservedCluster(r), 1);
  }
  return create(TcpProxySchema, {
    statPrefix,
    clusterSpecifier:
      weighted.size === 1
        ? { case: 'cluster', value: [...weighted.keys()][0]! }
        : {
            case: 'weightedClusters',
            value: create(TcpProxy_WeightedClusterSchema, {
              clusters: [...weighted].map(([name, weight]) =>
                create(TcpProxy_WeightedCluster_ClusterWeightSchema, { name, weight }),
              ),
            }),
          },
  });
}

function tcpProxyFilter(proxy: TcpProxy) {
  return create(FilterSchema, {
    name: 'envoy.filters.network.tcp_proxy',
    configType: { case: 'typedConfig', value: packAny(TcpProxySchema, proxy) },
  });
}

/** An SDS Secret: the certificate chain and key of a TLS Secret, inline. */
export function sdsSecret(name: string, certificateChain: string, privateKey: string): Secret {
  const bytes = (text: string) =>
    create(DataSourceSchema, {
      specifier: { case: 'inlineBytes', value: new TextEncoder().encode(text) },
    });
  return create(SecretSchema, {
    name,
    type: {
      case: 'tlsCertificate',
      value: create(TlsCertificateSchema, {
        certificateChain: bytes(certificateChain),
        privateKey: bytes(privateKey),
      }),
    },
  });
}
