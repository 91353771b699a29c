// What one Service contributes to an Envoy resource set: its listeners (proxyless) or filter chains
// (waypoint), its route configurations, the clusters its routes send to, and the notes. A set is
// the contributions of its services plus the endpoints of every cluster they name, so a change
// re-translates only the services it touches (envoy-set.ts). Pure.
import type { FilterChain } from '@trellis/api/gen/envoy/config/listener/v3/listener_components_pb.js';
import type { Listener } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import type { HttpFilter } from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { AuthorizationPolicyInfo } from '../../model/policy-info.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import type { WaypointInfo } from '../../model/waypoint-info.js';
import { GATEWAY_GROUP } from '../../model/gateway-api.js';
import { apiListener, waypointFilterChain, waypointTcpChain } from './listeners.js';
import { clusterName, routeConfigName } from './names.js';
import { NoteSink, type EnvoyNote } from './notes.js';
import { networkRbacFilters, rbacFilters } from './rbac.js';
import { jwtAuthnFilter, requestAuthenticationsFor } from './request-authn.js';
import { routeAttachments } from './route-attachment.js';
import { routeConfiguration, servicePortRoutes, waypointPortRoutes } from './route-config.js';
import { corsFilter, usesCors } from './cors.js';
import { faultFilter, usesFault } from './fault-annotations.js';
import { addHashPolicies, noteTrafficPolicies } from './traffic-policy.js';
import type { ClusterRef, RouteContext, ServiceLookup } from './route-context.js';
import type { EnvoyState } from './state.js';

export interface ServiceContribution {
  readonly listeners: readonly (readonly [string, Listener])[];
  /** Waypoint only: the service's filter chains on the waypoint listener. */
  readonly chains: readonly FilterChain[];
  readonly routes: readonly (readonly [string, RouteConfiguration])[];
  /** Clusters the service's routes send or mirror to (Services of the mesh only). */
  readonly clusters: readonly ClusterRef[];
  /** Keys of the Services its routes name as backends or mirrors (present or not). */
  readonly backends: ReadonlySet<string>;
  readonly notes: readonly EnvoyNote[];
}

function context(state: EnvoyState, target: RouteContext['target']) {
  const notes = new NoteSink();
  const backends = new Set<string>();
  const services = state.services;
  // Records every backend key looked up, so that a change of that Service re-translates us.
  const tracking: ServiceLookup = { get: (key) => (backends.add(key), services.get(key)) };
  const ctx: RouteContext = {
    target,
    services: tracking,
    domainSuffix: state.options.domainSuffix,
    notes,
    clusters: new Map(),
    referenceGrants: state.referenceGrants ?? [],
  };
  return { ctx, notes, backends };
}

export function tcpPorts(s: ServiceInfo): ServicePortInfo[] {
  return s.ports.filter((p) => (p.protocol || 'TCP') === 'TCP');
}

function listenerHosts(s: ServiceInfo): string[] {
  return [s.hostname, `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`];
}

/**
 * A Service for proxyless gRPC clients (of `clientNamespace`, when known): API listeners for its
 * three names on every TCP port, a route configuration per port, and an EDS cluster per port.
 */
export function proxylessService(
  state: EnvoyState,
  service: ServiceInfo,
  clientNamespace: string | undefined,
): ServiceContribution {
  const { ctx, notes, backends } = context(state, 'grpc');
  const attachments = routeAttachments(state);
  const listeners: [string, Listener][] = [];
  const routes: [string, RouteConfiguration][] = [];
  for (const port of tcpPorts(service)) {
    const rds = routeConfigName(service.hostname, port.port);
    for (const host of listenerHosts(service))
      listeners.push([`${host}:${port.port}`, apiListener(`${host}:${port.port}`, rds)]);
    const attached = attachments.forServicePort(service, port, clientNamespace);
    routes.push([rds, routeConfiguration(rds, servicePortRoutes(service, port, attached, ctx))]);
    const cluster = clusterName(service.hostname, port.port);
    ctx.clusters.set(cluster, { cluster, service, port });
  }
  return {
    listeners,
    chains: [],
    routes,
    clusters: [...ctx.clusters.values()],
    backends,
    notes: notes.notes,
  };
}

/** Policies of the waypoint's pods chosen by workload selector (keys `<ns>/<name>`). */
export interface WaypointSelected {
  readonly authorizationPolicies: ReadonlySet<string>;
  readonly requestAuthentications: ReadonlySet<string>;
}

/**
 * A Service bound to `waypoint`: a filter chain per port and the clusters its chains and routes
 * use. HTTP ports: JWT authentication (RequestAuthentication), the RBAC filters of the policies
 * that apply, fault injection when a route asks for it, and a route configuration from the
 * consumer routes (per caller namespace), the producer routes of the Service and the routes of
 * the waypoint. Ports named as a non-HTTP protocol: network RBAC with the L4 part of the policies
 * and a TCP proxy to the service. Headless services are left out with a note.
 */
export function waypointService(
  state: EnvoyState,
  waypoint: WaypointInfo,
  service: ServiceInfo,
  selected: WaypointSelected,
): ServiceContribution {
  const { ctx, notes, backends } = context(state, 'envoy');
  const attachments = routeAttachments(state);
  const chains: FilterChain[] = [];
  const routes: [string, RouteConfiguration][] = [];
  const object = `${service.namespace}/${service.name}`;
  const done = (): ServiceContribution => ({
    listeners: [],
    chains,
    routes,
    clusters: [...ctx.clusters.values()],
    backends,
    notes: notes.notes,
  });
  if (service.vips.length === 0) {
    notes.add('Service', object, `headless services are not served by waypoint ${waypoint.key}`);
    return done();
  }
  const { trustDomain, rootNamespace } = state.options;
  const { policies, jwt } = waypointAuth(state, waypoint, service, selected, notes);
  const rbac = rbacFilters(policies, trustDomain, notes);
  let l4: ReturnType<typeof networkRbacFilters> | undefined;
  for (const port of tcpPorts(service)) {
    if (opaqueProtocol(port)) {
      // TCP passthrough with the L4 part of the policies, as Istio's waypoint does.
      const cluster = clusterName(service.hostname, port.port);
      ctx.clusters.set(cluster, { cluster, service, port });
      l4 ??= networkRbacFilters(policies, trustDomain, notes);
      chains.push(waypointTcpChain(service, port, cluster, l4));
      continue;
    }
    const rds = routeConfigName(service.hostname, port.port);
    const producer = [
      ...attachments.forServicePort(service, port),
      ...attachments.forWaypoint(waypoint, service),
    ];
    const consumers = attachments.consumersOf(service, port);
    const config = routeConfiguration(
      rds,
      waypointPortRoutes(service, port, producer, consumers, ctx),
    );
    routes.push([rds, config]);
    const fault = usesFault(config) ? [faultFilter()] : [];
    const cors = usesCors(config) ? [corsFilter()] : [];
    chains.push(
      waypointFilterChain(service, port, rds, [...(jwt ? [jwt] : []), ...rbac, ...cors, ...fault]),
    );
  }
  const destinationRules = state.destinationRules ?? [];
  addHashPolicies(
    routes.map(([, r]) => r),
    ctx.clusters,
    destinationRules,
    rootNamespace,
  );
  noteTrafficPolicies(ctx.clusters, destinationRules, rootNamespace, notes);
  return done();
}

/**
 * What authenticates and authorizes requests to `service` on `waypoint` (none: its
 * workload-addressed traffic): the AuthorizationPolicies that apply and the JWT filter of the
 * RequestAuthentications that apply, both chosen by `policiesFor`'s rules.
 */
export function waypointAuth(
  state: EnvoyState,
  waypoint: WaypointInfo,
  service: ServiceInfo | undefined,
  selected: WaypointSelected,
  notes: NoteSink,
): { policies: AuthorizationPolicyInfo[]; jwt: HttpFilter | undefined } {
  const policies = policiesFor(state, waypoint, service, selected.authorizationPolicies);
  const jwt = jwtAuthnFilter(
    requestAuthenticationsFor(
      state.requestAuthentications ?? [],
      state.options.rootNamespace,
      waypoint,
      service,
      selected.requestAuthentications,
    ),
    notes,
  );
  return { policies, jwt };
}

/**
 * Policies enforced for `service` on `waypoint` (none: its workload-addressed traffic): targetRefs naming the waypoint Gateway (same
 * namespace), the Service (same namespace) or the waypoint's GatewayClass (root namespace), and
 * selector policies that select the waypoint's pods. In policy key order.
 */
export function policiesFor(
  state: EnvoyState,
  waypoint: WaypointInfo,
  service: ServiceInfo | undefined,
  selectorPolicies: ReadonlySet<string>,
): AuthorizationPolicyInfo[] {
  return state.authorizationPolicies.filter((p) => {
    if (selectorPolicies.has(p.key)) return true;
    return p.targetRefs.some((ref) => {
      if (ref.namespace !== undefined && ref.namespace !== p.namespace) return false;
      if (ref.kind === 'Gateway' && ref.group === GATEWAY_GROUP)
        return p.namespace === waypoint.namespace && ref.name === waypoint.name;
      if (ref.kind === 'GatewayClass' && ref.group === GATEWAY_GROUP)
        return (
          p.namespace === state.options.rootNamespace && ref.name === waypoint.gatewayClassName
        );
      if (ref.kind === 'Service' && ref.group === '')
        return p.namespace === service?.namespace && ref.name === service.name;
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
