// Resources for a waypoint (plain Envoy v3): one listener on the HBONE port with a filter chain per
// service port bound to the waypoint (matched by the service VIPs and port). HTTP ports: JWT
// authentication (RequestAuthentication), RBAC filters from the L7 AuthorizationPolicies, fault
// injection when a route asks for it, and routes from the HTTPRoutes/GRPCRoutes attached to the
// Service (GAMMA) or to the waypoint Gateway. TCP ports (named tcp-, tls-, ...): network RBAC and a
// TCP proxy. Clusters (with DestinationRule traffic policies) and endpoints for every backend.
import type { AuthorizationPolicyInfo } from '../../model/policy-info.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import type { WaypointInfo } from '../../model/waypoint-info.js';
import { LABEL_GATEWAY_NAME } from '../../model/well-known.js';
import { create } from '@bufbuild/protobuf';
import { packAny } from '@trellis/api';
import { MetadataSchema } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import type { RouteConfiguration } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { HTTPFaultSchema } from '@trellis/api/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import {
  HttpFilterSchema,
  type HttpFilter,
} from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { RequestAuthentication } from '../../model/kube.js';
import { edsCluster, speaksHttp2 } from './clusters.js';
import { FAULT_FILTER } from './fault-annotations.js';
import { clusterName } from './names.js';
import { jwtAuthnFilter } from './request-authn.js';
import { applyTrafficPolicy, destinationRuleFor, hashPolicies } from './traffic-policy.js';
import { clusterLoadAssignment, workloadsByService } from './endpoints.js';
import { GATEWAY_GROUP } from './gateway-api.js';
import { waypointFilterChain, waypointListener, waypointTcpChain } from './listeners.js';
import { routeConfigName } from './names.js';
import { NoteSink } from './notes.js';
import { tcpPorts } from './proxyless.js';
import { networkRbacFilters, rbacFilters } from './rbac.js';
import { sortedByName, type EnvoyResources } from './resources.js';
import { routeIndex } from './route-attachment.js';
import { routeConfiguration, servicePortRoutes } from './route-config.js';
import type { RouteContext } from './route-context.js';
import type { EnvoyState } from './state.js';

export function waypointResources(state: EnvoyState, waypoint: WaypointInfo): EnvoyResources {
  const notes = new NoteSink();
  const ctx: RouteContext = {
    target: 'envoy',
    services: state.services,
    domainSuffix: state.options.domainSuffix,
    notes,
    clusters: new Map(),
  };
  const routes = routeIndex(state, notes);
  const selectorPolicies = waypointSelectorPolicies(state, waypoint);
  const selectorRequestAuthns = waypointSelectorRequestAuthns(state, waypoint);
  const chains = [];
  const routeConfigs: EnvoyResources['routes'] = new Map();
  for (const service of state.services.values()) {
    if (service.waypoint?.waypoint !== waypoint.key) continue;
    const object = `${service.namespace}/${service.name}`;
    if (service.vips.length === 0) {
      notes.add('Service', object, `headless services are not served by waypoint ${waypoint.key}`);
      continue;
    }
    const policies = policiesFor(state, waypoint, service, selectorPolicies);
    const jwt = jwtAuthnFilter(
      requestAuthenticationsFor(state, waypoint, service, selectorRequestAuthns),
      notes,
    );
    const rbac = rbacFilters(policies, state.options.trustDomain, notes);
    for (const port of tcpPorts(service)) {
      if (opaqueProtocol(port)) {
        // TCP passthrough with the L4 parts of the policies, as Istio's waypoint does.
        const cluster = clusterName(service.hostname, port.port);
        ctx.clusters.set(cluster, { cluster, service, port });
        const l4 = networkRbacFilters(policies, state.options.trustDomain, notes);
        chains.push(waypointTcpChain(service, port, cluster, l4));
        continue;
      }
      const rds = routeConfigName(service.hostname, port.port);
      const attached = [
        ...routes.forServicePort(service, port),
        ...routes.forWaypoint(waypoint, service),
      ];
      const config = routeConfiguration(rds, servicePortRoutes(service, port, attached, ctx));
      routeConfigs.set(rds, config);
      const fault = usesFault(config) ? [faultFilter()] : [];
      chains.push(
        waypointFilterChain(service, port, rds, [...(jwt ? [jwt] : []), ...rbac, ...fault]),
      );
    }
  }
  const byService = workloadsByService(state);
  const clusters: EnvoyResources['clusters'] = new Map();
  const endpoints: EnvoyResources['endpoints'] = new Map();
  for (const { cluster, service, port } of ctx.clusters.values()) {
    const c = edsCluster(cluster, { http2: speaksHttp2(port) });
    c.metadata = serviceMetadata(service);
    const dr = destinationRuleFor(state.destinationRules, service, state.options.rootNamespace);
    if (dr) applyTrafficPolicy(c, dr, notes);
    clusters.set(cluster, c);
    endpoints.set(
      cluster,
      clusterLoadAssignment(cluster, service, port, byService.get(service.key) ?? [], {
        meshMetadata: true,
      }),
    );
  }
  addHashPolicies(routeConfigs, state, ctx);
  const listeners: EnvoyResources['listeners'] = new Map();
  if (chains.length > 0) listeners.set(waypointListener(chains).name, waypointListener(chains));
  return {
    listeners,
    routes: sortedByName(routeConfigs),
    clusters: sortedByName(clusters),
    endpoints: sortedByName(endpoints),
    notes: notes.notes,
  };
}

/**
 * Policies enforced for `service` on `waypoint`: targetRefs naming the waypoint Gateway (same
 * namespace), the Service (same namespace) or the waypoint's GatewayClass (root namespace), and
 * selector policies that select the waypoint's pods. In policy key order.
 */
export function policiesFor(
  state: EnvoyState,
  waypoint: WaypointInfo,
  service: ServiceInfo,
  selectorPolicies: ReadonlySet<string>,
): AuthorizationPolicyInfo[] {
  return state.authorizationPolicies.filter((p) => {
    if (selectorPolicies.has(p.key)) return true;
    return p.targetRefs.some((ref) => {
      if (ref.namespace !== undefined && ref.namespace !== p.namespace) return false;
      const group = ref.group ?? '';
      if (ref.kind === 'Gateway' && group === GATEWAY_GROUP)
        return p.namespace === waypoint.namespace && ref.name === waypoint.name;
      if (ref.kind === 'GatewayClass' && group === GATEWAY_GROUP)
        return (
          p.namespace === state.options.rootNamespace && ref.name === waypoint.gatewayClassName
        );
      if (ref.kind === 'Service' && (group === '' || group === 'core'))
        return p.namespace === service.namespace && ref.name === service.name;
      return false;
    });
  });
}

/**
 * RequestAuthentications for `service` on `waypoint`, chosen as AuthorizationPolicies are:
 * targetRefs to the waypoint Gateway, the Service or the GatewayClass (root namespace), or a
 * selector matching the waypoint's pods.
 */
function requestAuthenticationsFor(
  state: EnvoyState,
  waypoint: WaypointInfo,
  service: ServiceInfo,
  selected: ReadonlySet<RequestAuthentication>,
): RequestAuthentication[] {
  return (state.requestAuthentications ?? []).filter((p) => {
    if (selected.has(p)) return true;
    const ns = p.metadata?.namespace ?? 'default';
    const refs = p.spec?.targetRefs ?? (p.spec?.targetRef ? [p.spec.targetRef] : []);
    return refs.some((ref) => {
      const group = ref.group ?? '';
      if (ref.kind === 'Gateway' && group === GATEWAY_GROUP)
        return ns === waypoint.namespace && ref.name === waypoint.name;
      if (ref.kind === 'GatewayClass' && group === GATEWAY_GROUP)
        return ns === state.options.rootNamespace && ref.name === waypoint.gatewayClassName;
      if (ref.kind === 'Service' && (group === '' || group === 'core'))
        return ns === service.namespace && ref.name === service.name;
      return false;
    });
  });
}

/** RequestAuthentications whose selector matches a pod of the waypoint. */
function waypointSelectorRequestAuthns(
  state: EnvoyState,
  waypoint: WaypointInfo,
): Set<RequestAuthentication> {
  const out = new Set<RequestAuthentication>();
  const pods = [...state.workloads.values()].filter(
    (w) => w.namespace === waypoint.namespace && w.labels[LABEL_GATEWAY_NAME] === waypoint.name,
  );
  for (const p of state.requestAuthentications ?? []) {
    const labels = p.spec?.selector?.matchLabels;
    if (!labels || Object.keys(labels).length === 0) continue;
    const ns = p.metadata?.namespace ?? 'default';
    if (
      pods.some(
        (w) =>
          (ns === w.namespace || ns === state.options.rootNamespace) &&
          Object.entries(labels).every(([k, v]) => w.labels[k] === v),
      )
    )
      out.add(p);
  }
  return out;
}

/** Istio's cluster metadata naming the service behind a cluster (telemetry's destination_service). */
function serviceMetadata(service: ServiceInfo) {
  return create(MetadataSchema, {
    filterMetadata: {
      istio: {
        services: [{ host: service.hostname, name: service.name, namespace: service.namespace }],
      },
    },
  });
}

function usesFault(config: RouteConfiguration): boolean {
  return config.virtualHosts.some((vh) =>
    vh.routes.some((r) => r.typedPerFilterConfig[FAULT_FILTER] !== undefined),
  );
}

function faultFilter(): HttpFilter {
  return create(HttpFilterSchema, {
    name: FAULT_FILTER,
    configType: { case: 'typedConfig', value: packAny(HTTPFaultSchema, create(HTTPFaultSchema)) },
  });
}

/** Consistent hashing (DestinationRule) needs a hash policy on the routes that use the cluster. */
function addHashPolicies(
  routeConfigs: EnvoyResources['routes'],
  state: EnvoyState,
  ctx: RouteContext,
): void {
  const byCluster = new Map<string, ReturnType<typeof hashPolicies>>();
  for (const { cluster, service } of ctx.clusters.values()) {
    const hp = hashPolicies(
      destinationRuleFor(state.destinationRules, service, state.options.rootNamespace),
    );
    if (hp.length > 0) byCluster.set(cluster, hp);
  }
  if (byCluster.size === 0) return;
  for (const config of routeConfigs.values())
    for (const vh of config.virtualHosts)
      for (const r of vh.routes) {
        if (r.action.case !== 'route') continue;
        const spec = r.action.value.clusterSpecifier;
        const first =
          spec.case === 'cluster'
            ? spec.value
            : spec.case === 'weightedClusters'
              ? spec.value.clusters[0]?.name
              : undefined;
        const hp = first !== undefined ? byCluster.get(first) : undefined;
        if (hp) r.action.value.hashPolicy = hp;
      }
}

/**
 * Ports named as a non-HTTP protocol (Istio's `<protocol>-<suffix>` convention). Ports without a
 * declared protocol are proxied as HTTP.
 */
function opaqueProtocol(port: ServicePortInfo): string | undefined {
  if (port.appProtocol !== 'UNKNOWN') return undefined;
  const prefix = port.name.toLowerCase().split('-', 1)[0]!;
  return OPAQUE_PROTOCOLS.has(prefix) ? prefix : undefined;
}

const OPAQUE_PROTOCOLS = new Set(['tcp', 'tls', 'https', 'mongo', 'mysql', 'redis']);

/** Selector policies that select any pod of the waypoint (pods labelled with its Gateway name). */
function waypointSelectorPolicies(state: EnvoyState, waypoint: WaypointInfo): Set<string> {
  const keys = new Set<string>();
  for (const w of state.workloads.values())
    if (w.namespace === waypoint.namespace && w.labels[LABEL_GATEWAY_NAME] === waypoint.name)
      for (const k of w.authorizationPolicies) keys.add(k);
  return keys;
}
