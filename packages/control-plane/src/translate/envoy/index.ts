// Envoy xDS v3 resources (LDS, RDS, CDS, EDS) for waypoints and proxyless gRPC clients: pure
// translators from the mesh state, plus `generateEnvoy`, the xDS server generator for those types.
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  packAny,
  ROUTE_CONFIGURATION_TYPE_URL,
} from '@trellis/api';
import { ClusterSchema } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import type { GenerateContext, GeneratedResource, GeneratedResources, Proxy } from '@trellis/xds';
import type { MeshState } from '../../collections/mesh-state.js';
import { envoyProxyRole, type EnvoyProxyRole } from './proxy-role.js';
import { proxylessResources } from './proxyless.js';
import { routeAttachments } from './route-attachment.js';
import type { EnvoyResources } from './resources.js';
import type { EnvoyState } from './state.js';
import { waypointResources } from './waypoint.js';

export { envoyProxyRole, WAYPOINT_NODE_TYPE, type EnvoyProxyRole } from './proxy-role.js';
export { proxylessResources } from './proxyless.js';
export { waypointResources } from './waypoint.js';
export { withRoutes, type EnvoyState, type RouteInputs } from './state.js';
export {
  routeAttachments,
  type ParentResult,
  type RouteAttachments,
  type RouteCondition,
  type RouteResult,
} from './route-attachment.js';
export type { EnvoyResources } from './resources.js';
export type { EnvoyNote } from './notes.js';
export { clusterName, routeConfigName, WAYPOINT_LISTENER_NAME } from './names.js';
export { envoyResourcesToYaml } from './yaml.js';

/** The type URLs `generateEnvoy` serves. */
export const ENVOY_TYPE_URLS: readonly string[] = Object.freeze([
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  CLUSTER_TYPE_URL,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
]);

/** The resources for one proxy: the waypoint set for a waypoint, else the proxyless gRPC set. */
export function envoyResourcesFor(
  state: EnvoyState,
  role: EnvoyProxyRole,
  clientNamespace?: string,
): EnvoyResources | undefined {
  if (role.kind === 'proxyless') return proxylessResources(state, clientNamespace);
  if (role.kind === 'waypoint') return waypointResources(state, role.waypoint);
  return undefined;
}

type Packed = ReadonlyMap<string, GeneratedResources>;
const EMPTY: GeneratedResources = new Map();

/** Packed resource sets per state object: every proxyless client, and each waypoint's replicas, share one. */
const cache = new WeakMap<MeshState, Map<string, Packed>>();

/**
 * xDS generator for the Envoy types. `state` may carry routes (see `withRoutes`); pass the same
 * state object for every call on one snapshot so the translation runs once per snapshot. Pure:
 * the cache only remembers results for a state object.
 */
export function generateEnvoy(
  typeUrl: string,
  state: EnvoyState,
  proxy: Proxy,
  _ctx: GenerateContext,
): GeneratedResources {
  const role = envoyProxyRole(state, proxy);
  if (role.kind === 'unknown-waypoint') return EMPTY;
  // Clients of a namespace with consumer routes get their own proxyless set.
  const ns = proxy.istio?.namespace;
  const consumer =
    role.kind === 'proxyless' &&
    ns !== undefined &&
    routeAttachments(state).consumerNamespaces.has(ns)
      ? ns
      : undefined;
  const key =
    role.kind === 'waypoint'
      ? `waypoint/${role.waypoint.key}`
      : consumer !== undefined
        ? `proxyless/${consumer}`
        : 'proxyless';
  let perState = cache.get(state);
  if (!perState) cache.set(state, (perState = new Map()));
  let packed = perState.get(key);
  if (!packed) {
    packed = pack(envoyResourcesFor(state, role, consumer)!);
    perState.set(key, packed);
  }
  return packed.get(typeUrl) ?? EMPTY;
}

function pack(r: EnvoyResources): Packed {
  return new Map([
    [LISTENER_TYPE_URL, packAll(ListenerSchema, r.listeners)],
    [ROUTE_CONFIGURATION_TYPE_URL, packAll(RouteConfigurationSchema, r.routes)],
    [CLUSTER_TYPE_URL, packAll(ClusterSchema, r.clusters)],
    [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, packAll(ClusterLoadAssignmentSchema, r.endpoints)],
  ]);
}

function packAll<Desc extends DescMessage>(
  schema: Desc,
  messages: ReadonlyMap<string, MessageShape<Desc>>,
): GeneratedResources {
  const out = new Map<string, GeneratedResource>();
  for (const [name, m] of messages) out.set(name, { resource: packAny(schema, m) });
  return out;
}
