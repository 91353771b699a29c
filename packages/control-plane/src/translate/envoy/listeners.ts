// LDS: proxyless gRPC API listeners and the waypoint's inbound listener.
import { create, type DescMessage } from '@bufbuild/protobuf';
import type { RouteConfiguration } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { packAny } from '@trellis/api';
import { ApiListenerSchema } from '@trellis/api/gen/envoy/config/listener/v3/api_listener_pb.js';
import {
  FilterChainMatchSchema,
  FilterChainSchema,
  FilterSchema,
  type Filter,
  type FilterChain,
  type FilterChainMatch,
} from '@trellis/api/gen/envoy/config/listener/v3/listener_components_pb.js';
import { TcpProxySchema } from '@trellis/api/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import {
  ListenerSchema,
  type Listener,
} from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { RouterSchema } from '@trellis/api/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import {
  HttpConnectionManager_CodecType,
  HttpConnectionManager_UpgradeConfigSchema,
  HttpConnectionManagerSchema,
  HttpFilterSchema,
  RdsSchema,
  type HttpConnectionManager,
  type HttpFilter,
} from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import { HBONE_PORT } from '../../model/well-known.js';
import { adsConfigSource, cidrRange, socketAddress } from './common.js';
import { WAYPOINT_LISTENER_NAME, waypointChainName } from './names.js';

/** An HTTP connection manager fetching its routes by RDS, with `filters` then the router (last, as gRPC requires). */
export function httpConnectionManager(
  statPrefix: string,
  routeConfigName: string,
  filters: HttpFilter[],
  options: { normalizePath?: boolean; websocket?: boolean; edge?: boolean } = {},
): HttpConnectionManager {
  return create(HttpConnectionManagerSchema, {
    statPrefix,
    // At the edge (ingress gateways, as Istio's) the connection's peer is the client: it is
    // appended to x-forwarded-for.
    ...(options.edge ? { useRemoteAddress: true } : {}),
    // Istio's default path normalisation (BASE): routes and policies see "/a/../b" as "/b".
    ...(options.normalizePath ? { normalizePath: true } : {}),
    // Istio lets WebSocket upgrades through every HTTP listener of its proxies.
    ...(options.websocket
      ? {
          upgradeConfigs: [
            create(HttpConnectionManager_UpgradeConfigSchema, { upgradeType: 'websocket' }),
          ],
        }
      : {}),
    codecType: HttpConnectionManager_CodecType.AUTO,
    routeSpecifier: {
      case: 'rds',
      value: create(RdsSchema, { configSource: adsConfigSource(), routeConfigName }),
    },
    httpFilters: [
      ...filters,
      create(HttpFilterSchema, {
        name: 'envoy.filters.http.router',
        configType: { case: 'typedConfig', value: packAny(RouterSchema, create(RouterSchema)) },
      }),
    ],
  });
}

/** What a gRPC client dialing `xds:///<name>` gets: an API listener (gRFC A27). */
export function apiListener(name: string, routeConfigName: string): Listener {
  return create(ListenerSchema, {
    name,
    apiListener: create(ApiListenerSchema, {
      apiListener: packAny(
        HttpConnectionManagerSchema,
        httpConnectionManager(name, routeConfigName, []),
      ),
    }),
  });
}

/** The inner streams to one service port: its VIPs and port. */
function vipMatch(service: ServiceInfo, port: ServicePortInfo) {
  return create(FilterChainMatchSchema, {
    destinationPort: port.port,
    prefixRanges: service.vips.map((v) => cidrRange(v.ip)!),
  });
}

/** One service port on the waypoint: matched by the destination (service VIPs and port) of the inner stream. */
export function waypointFilterChain(
  service: ServiceInfo,
  port: ServicePortInfo,
  routeConfigName: string,
  filters: HttpFilter[],
): FilterChain {
  const name = waypointChainName(service.hostname, port.port);
  return httpChain(name, vipMatch(service, port), routeConfigName, filters);
}

/**
 * A TCP service port on the waypoint (a port named tcp-, tls-, mongo-, ...): network RBAC from the
 * L4 parts of the policies, then tcp_proxy to the service's cluster.
 */
export function waypointTcpChain(
  service: ServiceInfo,
  port: ServicePortInfo,
  cluster: string,
  rbac: Filter[],
): FilterChain {
  return tcpChain(
    waypointChainName(service.hostname, port.port, 'tcp'),
    vipMatch(service, port),
    cluster,
    rbac,
  );
}

/** A waypoint chain serving HTTP: the connection manager (RDS, BASE path normalisation) with `filters`. */
export function httpChain(
  name: string,
  match: FilterChainMatch,
  routeConfigName: string,
  filters: HttpFilter[],
): FilterChain {
  return create(FilterChainSchema, {
    name,
    filterChainMatch: match,
    filters: [hcmFilter(name, routeConfigName, filters)],
  });
}

/**
 * The network filter of an HTTP chain: an HttpConnectionManager (RDS, Istio's path normalisation,
 * WebSocket upgrades allowed; `edge` for a gateway's chains).
 */
export function hcmFilter(
  statPrefix: string,
  routeConfigName: string,
  filters: HttpFilter[],
  edge = false,
): Filter {
  return create(FilterSchema, {
    name: 'envoy.filters.network.http_connection_manager',
    configType: {
      case: 'typedConfig',
      value: packAny(
        HttpConnectionManagerSchema,
        httpConnectionManager(statPrefix, routeConfigName, filters, {
          normalizePath: true,
          websocket: true,
          edge,
        }),
      ),
    },
  });
}

/** A waypoint chain passing TCP through: network RBAC, then tcp_proxy to `cluster`. */
export function tcpChain(
  name: string,
  match: FilterChainMatch,
  cluster: string,
  rbac: Filter[],
): FilterChain {
  return create(FilterChainSchema, {
    name,
    filterChainMatch: match,
    filters: [
      ...rbac,
      create(FilterSchema, {
        name: 'envoy.filters.network.tcp_proxy',
        configType: {
          case: 'typedConfig',
          value: packAny(
            TcpProxySchema,
            create(TcpProxySchema, {
              statPrefix: name,
              clusterSpecifier: { case: 'cluster', value: cluster },
            }),
          ),
        },
      }),
    ],
  });
}

/**
 * The waypoint's listener on the HBONE port. The waypoint terminates HBONE itself and hands each
 * CONNECT stream to the filter chain whose match fits the stream's target (`:authority` ip:port),
 * exactly as Envoy picks a chain by a connection's destination address.
 */
export function waypointListener(chains: FilterChain[]): Listener {
  return create(ListenerSchema, {
    name: WAYPOINT_LISTENER_NAME,
    address: socketAddress('0.0.0.0', HBONE_PORT),
    filterChains: chains,
  });
}

/** Whether a route of `config` configures HTTP filter `name` (its chain then needs that filter). */
export function routesConfigure(config: RouteConfiguration, name: string): boolean {
  return config.virtualHosts.some((vh) =>
    vh.routes.some((r) => r.typedPerFilterConfig[name] !== undefined),
  );
}

/** HTTP filter `name` with an empty `schema` config: each route's typed_per_filter_config says what to do. */
export function perRouteFilter(name: string, schema: DescMessage): HttpFilter {
  return create(HttpFilterSchema, {
    name,
    configType: { case: 'typedConfig', value: packAny(schema, create(schema)) },
  });
}
