// Which waypoint a service or workload uses: `istio.io/use-waypoint` on the object, else on its namespace.
import type { WaypointBinding, WaypointInfo } from '../model/waypoint-info.js';
import {
  LABEL_GATEWAY_NAME,
  LABEL_USE_WAYPOINT,
  LABEL_USE_WAYPOINT_NAMESPACE,
  USE_WAYPOINT_NONE,
} from '../model/well-known.js';
import { allowsNamespace } from './allowed-routes.js';

export interface WaypointLookup {
  waypoints: ReadonlyMap<string, WaypointInfo>;
  namespaceLabels(namespace: string): Record<string, string>;
}

export interface WaypointResolution {
  binding?: WaypointBinding;
  problem?: string;
}

interface Target {
  waypoint?: WaypointInfo;
  problem?: string;
  /** The object itself asked for the waypoint (not inherited from its namespace). */
  own: boolean;
}

/** `istio.io/use-waypoint` names a waypoint, in `istio.io/use-waypoint-namespace` or the object's namespace. */
function requested(labels: Record<string, string>, namespace: string): string | 'none' | undefined {
  const name = labels[LABEL_USE_WAYPOINT];
  if (name === undefined || name === '') return undefined;
  if (name === USE_WAYPOINT_NONE) return 'none';
  return `${labels[LABEL_USE_WAYPOINT_NAMESPACE] || namespace}/${name}`;
}

function findTarget(
  labels: Record<string, string>,
  namespace: string,
  lookup: WaypointLookup,
): Target {
  const own = requested(labels, namespace);
  if (own === 'none') return { own: true };
  const inherited =
    own === undefined ? requested(lookup.namespaceLabels(namespace), namespace) : undefined;
  const key = own ?? (inherited === 'none' ? undefined : inherited);
  if (key === undefined) return { own: false };
  const waypoint = lookup.waypoints.get(key);
  if (!waypoint)
    return { own: own !== undefined, problem: `waypoint ${key} was not found or is not ready` };
  if (!allowsAttachment(waypoint, namespace, lookup)) {
    return {
      own: own !== undefined,
      problem: `waypoint ${key} does not allow attachment from namespace ${namespace}`,
    };
  }
  return { waypoint, own: own !== undefined };
}

/** The HBONE listener's allowedRoutes, the same rule as for routes attached to the waypoint. */
function allowsAttachment(w: WaypointInfo, namespace: string, lookup: WaypointLookup): boolean {
  return allowsNamespace(
    w.allowedNamespaces,
    w.namespace,
    namespace,
    lookup.namespaceLabels(namespace),
  );
}

function bind(w: WaypointInfo): WaypointBinding {
  return { waypoint: w.key, address: w.address };
}

/** A Service's waypoint; the waypoint must accept `service` (or `all`) traffic. */
export function resolveServiceWaypoint(
  labels: Record<string, string>,
  namespace: string,
  lookup: WaypointLookup,
): WaypointResolution {
  // A gateway's own Service never goes through a waypoint.
  if (labels[LABEL_GATEWAY_NAME]) return {};
  const t = findTarget(labels, namespace, lookup);
  if (!t.waypoint) return t.problem ? { problem: t.problem } : {};
  if (t.waypoint.trafficType === 'service' || t.waypoint.trafficType === 'all')
    return { binding: bind(t.waypoint) };
  return {
    problem: `waypoint ${t.waypoint.key} does not accept service traffic (istio.io/waypoint-for: ${t.waypoint.trafficType})`,
  };
}

/**
 * A workload's waypoint; the waypoint must accept `workload` (or `all`) traffic. A namespace-wide
 * label naming a service-only waypoint is not an error for workloads: it simply does not apply.
 */
export function resolveWorkloadWaypoint(
  labels: Record<string, string>,
  namespace: string,
  lookup: WaypointLookup,
): WaypointResolution {
  const gateway = labels[LABEL_GATEWAY_NAME];
  if (gateway && lookup.waypoints.has(`${namespace}/${gateway}`)) return {}; // a waypoint's own pod
  const t = findTarget(labels, namespace, lookup);
  if (!t.waypoint) return t.problem ? { problem: t.problem } : {};
  if (t.waypoint.trafficType === 'workload' || t.waypoint.trafficType === 'all')
    return { binding: bind(t.waypoint) };
  if (!t.own) return {};
  return {
    problem: `waypoint ${t.waypoint.key} does not accept workload traffic (istio.io/waypoint-for: ${t.waypoint.trafficType})`,
  };
}
