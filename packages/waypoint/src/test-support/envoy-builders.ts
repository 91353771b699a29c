// Envoy v3 resources for tests, built as the control plane's translator shapes them (a waypoint
// listener with one chain per service VIP and port, RDS route tables, EDS clusters, endpoints with
// HBONE metadata). Tests pass route/cluster fields as protobuf-es init objects.
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  packAny,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
} from '@trellis/api';
import {
  ClusterSchema,
  Cluster_DiscoveryType,
} from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChainSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { VirtualHostSchema } from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import { RouteConfigurationSchema } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { RouterSchema } from '@trellis/api/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import {
  HttpConnectionManagerSchema,
  type HttpFilterSchema,
} from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '@trellis/api/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import type { ResourceSnapshot } from '@trellis/xds';

export const LISTENER = 'waypoint_inbound';

export interface ServiceChain {
  readonly vip: string;
  readonly port: number;
  /** The route table name (RDS); absent for a TCP chain. */
  readonly routes?: string;
  /** TCP passthrough to this cluster instead of HTTP. */
  readonly tcpCluster?: string;
  readonly httpFilters?: MessageInitShape<typeof HttpFilterSchema>[];
  readonly hcm?: Partial<MessageInitShape<typeof HttpConnectionManagerSchema>>;
}

const router = (): MessageInitShape<typeof HttpFilterSchema> => ({
  name: 'envoy.filters.http.router',
  configType: { case: 'typedConfig', value: packAny(RouterSchema, create(RouterSchema, {})) },
});

export function chain(c: ServiceChain): MessageInitShape<typeof FilterChainSchema> {
  const name = `inbound-vip|${c.port}|${c.tcpCluster ? 'tcp' : 'http'}|${c.vip}`;
  return {
    name,
    filterChainMatch: {
      destinationPort: c.port,
      prefixRanges: [{ addressPrefix: c.vip, prefixLen: c.vip.includes(':') ? 128 : 32 }],
    },
    filters: [terminalFilter(c, name)],
  };
}

/** The chain's terminal filter: tcp_proxy to `tcpCluster`, else an HCM with RDS `routes`. */
export function terminalFilter(
  c: Pick<ServiceChain, 'routes' | 'tcpCluster' | 'httpFilters' | 'hcm'>,
  name: string,
): NonNullable<MessageInitShape<typeof FilterChainSchema>['filters']>[number] {
  return c.tcpCluster
    ? {
        name: 'envoy.filters.network.tcp_proxy',
        configType: {
          case: 'typedConfig' as const,
          value: packAny(
            TcpProxySchema,
            create(TcpProxySchema, {
              statPrefix: name,
              clusterSpecifier: { case: 'cluster', value: c.tcpCluster },
            }),
          ),
        },
      }
    : {
        name: 'envoy.filters.network.http_connection_manager',
        configType: {
          case: 'typedConfig' as const,
          value: packAny(
            HttpConnectionManagerSchema,
            create(HttpConnectionManagerSchema, {
              statPrefix: name,
              routeSpecifier: {
                case: 'rds',
                value: {
                  configSource: { configSourceSpecifier: { case: 'ads', value: {} } },
                  routeConfigName: c.routes ?? '',
                },
              },
              httpFilters: [...(c.httpFilters ?? []), router()],
              ...c.hcm,
            } as MessageInitShape<typeof HttpConnectionManagerSchema>),
          ),
        },
      };
}

/** A resource with its name (the key the xDS server serves it under). */
export interface Named {
  readonly name: string;
  readonly resource: Any;
}

export function listener(chains: ServiceChain[], name = LISTENER): Named {
  return listenerAt(name, 15008, chains.map(chain));
}

/** A Listener bound to 0.0.0.0:<port> with these filter chains. */
export function listenerAt(
  name: string,
  port: number,
  filterChains: MessageInitShape<typeof FilterChainSchema>[],
): Named {
  return {
    name,
    resource: packAny(
      ListenerSchema,
      create(ListenerSchema, {
        name,
        address: {
          address: {
            case: 'socketAddress',
            value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: port } },
          },
        },
        filterChains,
      }),
    ),
  };
}

export function routeConfig(
  name: string,
  virtualHosts: MessageInitShape<typeof VirtualHostSchema>[],
): Named {
  return {
    name,
    resource: packAny(
      RouteConfigurationSchema,
      create(RouteConfigurationSchema, { name, virtualHosts }),
    ),
  };
}

/** One virtual host "*" with these routes. */
export function simpleRoutes(
  name: string,
  routes: MessageInitShape<typeof VirtualHostSchema>['routes'],
): Named {
  return routeConfig(name, [{ name, domains: ['*'], routes: routes ?? [] }]);
}

export function cluster(
  name: string,
  extra: Partial<MessageInitShape<typeof ClusterSchema>> = {},
): Named {
  return {
    name,
    resource: packAny(
      ClusterSchema,
      create(ClusterSchema, {
        name,
        clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
        edsClusterConfig: {
          edsConfig: { configSourceSpecifier: { case: 'ads', value: {} } },
          serviceName: name,
        },
        connectTimeout: { seconds: 2n },
        ...extra,
      } as MessageInitShape<typeof ClusterSchema>),
    ),
  };
}

export interface TestEndpoint {
  readonly ip: string;
  readonly port: number;
  /** SPIFFE ID: reached over HBONE; absent: plain TCP. */
  readonly identity?: string;
  readonly weight?: number;
  /** Istio's workload metadata "name;ns;canonical;revision;cluster". */
  readonly workload?: string;
}

export function endpoints(clusterName: string, eps: readonly TestEndpoint[]): Named {
  return {
    name: clusterName,
    resource: packAny(
      ClusterLoadAssignmentSchema,
      create(ClusterLoadAssignmentSchema, {
        clusterName,
        endpoints: [
          {
            lbEndpoints: eps.map((e) => ({
              hostIdentifier: {
                case: 'endpoint' as const,
                value: {
                  address: {
                    address: {
                      case: 'socketAddress' as const,
                      value: {
                        address: e.ip,
                        portSpecifier: { case: 'portValue' as const, value: e.port },
                      },
                    },
                  },
                },
              },
              ...(e.weight !== undefined ? { loadBalancingWeight: e.weight } : {}),
              metadata: {
                filterMetadata: {
                  ...(e.identity
                    ? {
                        trellis: { identity: e.identity },
                        'envoy.transport_socket_match': { tunnel: 'hbone' },
                      }
                    : {}),
                  ...(e.workload ? { istio: { workload: e.workload } } : {}),
                },
              },
            })),
          },
        ],
      }),
    ),
  };
}

export interface EnvoySet {
  readonly listeners?: readonly Named[];
  readonly routes?: readonly Named[];
  readonly clusters?: readonly Named[];
  readonly endpoints?: readonly Named[];
  /** SDS secrets (gateway certificates). */
  readonly secrets?: readonly Named[];
}

const byName = (list: readonly Named[] | undefined) =>
  new Map((list ?? []).map((n) => [n.name, n.resource]));

export function snapshotOf(s: EnvoySet): ResourceSnapshot {
  return new Map([
    [LISTENER_TYPE_URL, byName(s.listeners)],
    [ROUTE_CONFIGURATION_TYPE_URL, byName(s.routes)],
    [CLUSTER_TYPE_URL, byName(s.clusters)],
    [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, byName(s.endpoints)],
    [SECRET_TYPE_URL, byName(s.secrets)],
  ]);
}

type RouteInit = NonNullable<MessageInitShape<typeof VirtualHostSchema>['routes']>[number];
type MatchInit = NonNullable<RouteInit['match']>;

/** A route forwarding to one cluster (timeout 0 = none, as the translator sets it). */
export function forward(
  name: string,
  match: MatchInit,
  cluster: string,
  action: Record<string, unknown> = {},
  extra: Partial<RouteInit> = {},
): RouteInit {
  return {
    name,
    match,
    action: {
      case: 'route',
      value: {
        clusterSpecifier: { case: 'cluster', value: cluster },
        timeout: { seconds: 0n },
        ...action,
      },
    },
    ...extra,
  } as RouteInit;
}

export const prefix = (p: string, extra: Partial<MatchInit> = {}): MatchInit =>
  ({ pathSpecifier: { case: 'prefix', value: p }, ...extra }) as MatchInit;
export const exactPath = (p: string, extra: Partial<MatchInit> = {}): MatchInit =>
  ({ pathSpecifier: { case: 'path', value: p }, ...extra }) as MatchInit;

/** A header value to add, Envoy style. */
export const addHeader = (key: string, value: string, appendAction = 0) => ({
  header: { key, value },
  appendAction,
});
