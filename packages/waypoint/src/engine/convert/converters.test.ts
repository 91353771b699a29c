// Validation at the edge: every unsupported or unsafe field is refused with a reason that names
// it (the reason becomes the NACK's error_detail), and Envoy's defaults fill what is unset.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { packAny } from '@trellis/api';
import {
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterSchema,
} from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { RouterSchema } from '@trellis/api/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { HTTPFaultSchema } from '@trellis/api/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { JwtAuthenticationSchema } from '@trellis/api/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { HttpConnectionManagerSchema } from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { TcpProxySchema } from '@trellis/api/gen/envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy_pb.js';
import { StructSchema } from '@bufbuild/protobuf/wkt';
import { convertCluster, convertEndpoints } from './cluster.js';
import { originalDstEndpoint } from '../upstream/original-dst.js';
import { convertListener } from './listener.js';
import { convertRouteConfiguration } from './route-config.js';

const router = {
  name: 'envoy.filters.http.router',
  configType: { case: 'typedConfig' as const, value: packAny(RouterSchema, create(RouterSchema)) },
};
function hcmListener(hcm: object) {
  return convertListener(
    create(ListenerSchema, {
      name: 'l',
      filterChains: [
        {
          name: 'c',
          filters: [
            {
              name: 'hcm',
              configType: {
                case: 'typedConfig',
                value: packAny(
                  HttpConnectionManagerSchema,
                  create(HttpConnectionManagerSchema, {
                    statPrefix: 's',
                    routeSpecifier: { case: 'rds', value: { routeConfigName: 'r' } },
                    ...hcm,
                  } as never),
                ),
              },
            },
          ],
        },
      ],
    }),
  );
}
const refused = (c: { ok: boolean; reason?: string }, re: RegExp) => {
  assert.equal(c.ok, false);
  assert.match((c as { reason: string }).reason, re);
};

test('listeners: unknown filters are refused unless optional; the router must be last; only ADS', () => {
  const ok = hcmListener({ httpFilters: [router] });
  assert.ok(ok.ok);
  if (ok.ok) {
    const http = ok.value.chains[0]!.terminal;
    assert.equal(http.kind, 'http');
    if (http.kind === 'http') {
      assert.equal(http.http.streamIdleTimeoutMs, 300_000, "Envoy's default stream idle timeout");
      assert.equal(http.http.codec, 'auto');
    }
  }
  const lua = {
    name: 'envoy.filters.http.lua',
    configType: {
      case: 'typedConfig' as const,
      value: packAny(StructSchema, create(StructSchema)),
    },
  };
  refused(
    hcmListener({ httpFilters: [lua, router] }),
    /http_filters\[0\]\(envoy\.filters\.http\.lua\)\.typed_config: cannot unpack Any|filter type .* is not supported/,
  );
  assert.ok(
    hcmListener({ httpFilters: [{ ...lua, isOptional: true }, router] }).ok,
    'optional filters are skipped',
  );
  refused(
    hcmListener({ httpFilters: [router, { ...router, name: 'second' }] }),
    /router must be the last filter/,
  );
  refused(hcmListener({ httpFilters: [] }), /the router filter is required/);
  refused(
    hcmListener({ httpFilters: [router], useRemoteAddress: true, xffNumTrustedHops: 1 }),
    /xff_num_trusted_hops: 1 is not supported \(0 only\)/,
  );
  refused(
    hcmListener({
      httpFilters: [router],
      routeSpecifier: {
        case: 'rds',
        value: {
          routeConfigName: 'r',
          configSource: { configSourceSpecifier: { case: 'path', value: '/etc/x' } },
        },
      },
    }),
    /only ADS is supported/,
  );
  refused(
    convertListener(
      create(ListenerSchema, {
        name: 'l',
        filterChains: [
          {
            name: 'c',
            filters: [
              {
                name: 't',
                configType: {
                  case: 'typedConfig',
                  value: packAny(TcpProxySchema, create(TcpProxySchema, { statPrefix: 'x' })),
                },
              },
            ],
          },
        ],
      }),
    ),
    /cluster or weighted_clusters is required/,
  );
  refused(
    convertListener(
      create(ListenerSchema, {
        name: 'l',
        listenerFilters: [{ name: 'envoy.filters.listener.proxy_protocol' }],
        filterChains: [],
      }),
    ),
    /listener filter "envoy.filters.listener.proxy_protocol" is not supported/,
  );
});

test('filters: fault header delays and JWKS that do not parse are refused', () => {
  const fault = {
    name: 'f',
    configType: {
      case: 'typedConfig' as const,
      value: packAny(
        HTTPFaultSchema,
        create(HTTPFaultSchema, {
          delay: { faultDelaySecifier: { case: 'headerDelay', value: {} } },
        }),
      ),
    },
  };
  refused(hcmListener({ httpFilters: [fault, router] }), /only fixed_delay is supported/);
  const jwt = (provider: object) => ({
    name: 'j',
    configType: {
      case: 'typedConfig' as const,
      value: packAny(
        JwtAuthenticationSchema,
        create(JwtAuthenticationSchema, { providers: { p: provider } } as never),
      ),
    },
  });
  refused(
    hcmListener({
      httpFilters: [
        jwt({
          issuer: 'i',
          jwksSourceSpecifier: {
            case: 'localJwks',
            value: { specifier: { case: 'inlineString', value: '{"keys": 1}' } },
          },
        }),
        router,
      ],
    }),
    /local_jwks: JWKS has no "keys" array/,
  );
  refused(
    hcmListener({
      httpFilters: [
        jwt({
          issuer: 'i',
          jwksSourceSpecifier: { case: 'remoteJwks', value: { httpUri: { uri: 'ftp://x/jwks' } } },
        }),
        router,
      ],
    }),
    /is not an http\(s\) URL/,
  );
});

test('routes: unsupported actions and fields are named', () => {
  const rc = (route: object) =>
    convertRouteConfiguration(
      create(RouteConfigurationSchema, {
        name: 'r',
        virtualHosts: [{ name: 'v', domains: ['*'], routes: [route as never] }],
      }),
    );
  const m = { pathSpecifier: { case: 'prefix', value: '/' } };
  refused(
    rc({
      name: 'x',
      match: m,
      action: {
        case: 'route',
        value: { clusterSpecifier: { case: 'clusterHeader', value: 'x-cluster' } },
      },
    }),
    /cluster specifier clusterHeader is not supported/,
  );
  refused(
    rc({
      name: 'x',
      match: m,
      action: {
        case: 'route',
        value: {
          clusterSpecifier: { case: 'cluster', value: 'c' },
          retryPolicy: { retryOn: '5xx,on-a-whim' },
        },
      },
    }),
    /retry_on: "on-a-whim" is not supported/,
  );
  refused(
    rc({ name: 'x', match: m, action: { case: 'filterAction', value: {} } }),
    /action filterAction is not supported/,
  );
  refused(
    rc({
      name: 'x',
      match: { pathSpecifier: { case: 'safeRegex', value: { regex: '(a)\\1' } } },
      action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'c' } } },
    }),
    /backreferences/,
  );
  const unset = rc({
    name: 'x',
    match: m,
    action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'c' } } },
  });
  assert.ok(unset.ok);
  if (unset.ok) {
    const a = unset.value.virtualHosts[0]!.routes[0]!.action;
    assert.equal(a.kind === 'forward' && a.timeoutMs, 15_000, "Envoy's default route timeout");
    assert.equal(a.kind === 'forward' && a.clusterNotFoundStatus, 503);
  }
});

test('clusters and endpoints: discovery types, health checks; HBONE endpoints need an identity', () => {
  refused(
    convertCluster(
      create(ClusterSchema, {
        name: 'c',
        clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STRICT_DNS },
      }),
    ),
    /discovery type STRICT_DNS is not supported/,
  );
  refused(
    convertCluster(
      create(ClusterSchema, {
        name: 'c',
        clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
        healthChecks: [{}],
      }),
    ),
    /active health checking is not supported/,
  );
  const c = convertCluster(
    create(ClusterSchema, {
      name: 'c',
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    }),
  );
  assert.ok(c.ok);
  if (c.ok) {
    assert.deepEqual(c.value.limits, {
      maxConnections: 1024,
      maxPendingRequests: 1024,
      maxRequests: 1024,
      maxRetries: 3,
    });
    assert.equal(c.value.connectTimeoutMs, 5000);
    assert.equal(c.value.edsName, 'c');
  }
  refused(
    convertEndpoints(
      create(ClusterLoadAssignmentSchema, {
        clusterName: 'c',
        endpoints: [
          {
            lbEndpoints: [
              {
                hostIdentifier: {
                  case: 'endpoint',
                  value: {
                    address: {
                      address: {
                        case: 'socketAddress',
                        value: {
                          address: '10.0.0.1',
                          portSpecifier: { case: 'portValue', value: 80 },
                        },
                      },
                    },
                  },
                },
                metadata: {
                  filterMetadata: { 'envoy.transport_socket_match': { tunnel: 'hbone' } },
                },
              },
            ],
          },
        ],
      }),
    ),
    /an HBONE endpoint needs its identity/,
  );
});

test('ORIGINAL_DST clusters: CLUSTER_PROVIDED only, and a table of IP -> how to reach it', () => {
  const originalDst = (o: object) =>
    convertCluster(
      create(ClusterSchema, {
        name: 'direct',
        clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
        lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
        ...o,
      } as never),
    );
  const table = (t: object) => ({ metadata: { filterMetadata: { trellis: { original_dst: t } } } });
  refused(
    originalDst({ lbPolicy: Cluster_LbPolicy.ROUND_ROBIN }),
    /lb_policy: an ORIGINAL_DST cluster needs CLUSTER_PROVIDED/,
  );
  refused(
    convertCluster(
      create(ClusterSchema, {
        name: 'c',
        clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
        lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
      }),
    ),
    /CLUSTER_PROVIDED is for ORIGINAL_DST clusters only/,
  );
  refused(
    originalDst(table({ 'pod-a': { tunnel: 'hbone', identity: 'spiffe://td/ns/a/sa/a' } })),
    /original_dst\[pod-a\]: the key is not an IP address/,
  );
  refused(
    originalDst(table({ '10.0.0.1': { tunnel: 'hbone' } })),
    /original_dst\[10\.0\.0\.1\]: an HBONE destination needs its identity/,
  );
  const ok = originalDst(
    table({
      '10.0.0.1': { tunnel: 'hbone', identity: 'spiffe://td/ns/a/sa/a', workload: 'a-0;a;a;v1;K' },
      '::ffff:10.0.0.2': { workload: 'b-0;b;b;v1;K' },
    }),
  );
  assert.ok(ok.ok, ok.ok ? '' : ok.reason);
  if (!ok.ok) return;
  const cluster = ok.value;
  assert.equal(cluster.lbPolicy, 'cluster-provided');
  assert.deepEqual(originalDstEndpoint(cluster, '10.0.0.1', 8080), {
    address: '10.0.0.1',
    port: 8080,
    weight: 1,
    health: 'healthy',
    priority: 0,
    locality: '',
    hbone: true,
    identity: 'spiffe://td/ns/a/sa/a',
    workload: {
      name: 'a-0',
      namespace: 'a',
      canonicalService: 'a',
      canonicalRevision: 'v1',
      cluster: 'K',
    },
    metadata: new Map(),
  });
  assert.equal(originalDstEndpoint(cluster, '10.0.0.2', 80)?.hbone, false, 'IPv4-mapped key');
  assert.equal(originalDstEndpoint(cluster, '10.0.0.3', 80), undefined, 'not in the table');
});
