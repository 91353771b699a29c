// Resources for a waypoint (plain Envoy v3): one listener on the HBONE port with a filter chain per
// HTTP service port bound to the waypoint (matched by the service VIPs and port), each with RBAC
// filters from the L7 AuthorizationPolicies that apply and routes from the HTTPRoutes/GRPCRoutes
// attached to the Service (GAMMA) or to the waypoint Gateway; clusters and endpoints for every
// backend those routes use.
import type { AuthorizationPolicyInfo } from '../../model/policy-info.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import type { WaypointInfo } from '../../model/waypoint-info.js';
import { LABEL_GATEWAY_NAME } from '../../model/well-known.js';
import { edsCluster, speaksHttp2 } from './clusters.js';
import { clusterLoadAssignment, workloadsByService } from './endpoints.js';
import { GATEWAY_GROUP } from '../../model/gateway-api.js';
import { waypointFilterChain, waypointListener } from './listeners.js';
import { routeConfigName } from './names.js';
import { NoteSink } from './notes.js';
import { tcpPorts } from './proxyless.js';
import { rbacFilters } from './rbac.js';
import { sortedByName, type EnvoyResources } from './resources.js';
import { routeAttachments } from './route-attachment.js';
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
  const routes = routeAttachments(state);
  const selectorPolicies = waypointSelectorPolicies(state, waypoint);
  const chains = [];
  const routeConfigs: EnvoyResources['routes'] = new Map();
  for (const service of state.services.values()) {
    if (service.waypoint?.waypoint !== waypoint.key) continue;
    const object = `${service.namespace}/${service.name}`;
    if (service.vips.length === 0) {
      notes.add('Service', object, `headless services are not served by waypoint ${waypoint.key}`);
      continue;
    }
    const filters = rbacFilters(
      policiesFor(state, waypoint, service, selectorPolicies),
      state.options.trustDomain,
      notes,
    );
    for (const port of tcpPorts(service)) {
      const opaque = opaqueProtocol(port);
      if (opaque) {
        notes.add(
          'Service',
          object,
          `port ${port.port} is ${opaque}; the waypoint proxies HTTP and gRPC ports only`,
        );
        continue;
      }
      const rds = routeConfigName(service.hostname, port.port);
      const attached = [
        ...routes.forServicePort(service, port),
        ...routes.forWaypoint(waypoint, service),
      ];
      routeConfigs.set(
        rds,
        routeConfiguration(rds, servicePortRoutes(service, port, attached, ctx)),
      );
      chains.push(waypointFilterChain(service, port, rds, filters));
    }
  }
  const byService = workloadsByService(state);
  const clusters: EnvoyResources['clusters'] = new Map();
  const endpoints: EnvoyResources['endpoints'] = new Map();
  for (const { cluster, service, port } of ctx.clusters.values()) {
    clusters.set(cluster, edsCluster(cluster, { http2: speaksHttp2(port) }));
    endpoints.set(
      cluster,
      clusterLoadAssignment(cluster, service, port, byService.get(service.key) ?? [], {
        meshMetadata: true,
      }),
    );
  }
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
      const group = ref.group;
      if (ref.kind === 'Gateway' && group === GATEWAY_GROUP)
        return p.namespace === waypoint.namespace && ref.name === waypoint.name;
      if (ref.kind === 'GatewayClass' && group === GATEWAY_GROUP)
        return (
          p.namespace === state.options.rootNamespace && ref.name === waypoint.gatewayClassName
        );
      if (ref.kind === 'Service' && group === '')
        return p.namespace === service.namespace && ref.name === service.name;
      return false;
    });
  });
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
