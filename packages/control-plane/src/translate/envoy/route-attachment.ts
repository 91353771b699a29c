// Which HTTPRoutes and GRPCRoutes apply to a service port: GAMMA routes whose parentRef is the
// Service (producer routes in the Service's namespace; consumer routes from other namespaces, for
// their own namespace's clients), and, for a waypoint, routes whose parentRef is its Gateway.
import type { GRPCRoute, HTTPRoute, ParentReference } from '../../model/kube.js';
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import type { WaypointInfo } from '../../model/waypoint-info.js';
import { GATEWAY_GROUP } from './gateway-api.js';
import type { NoteSink } from './notes.js';
import type { RouteSource } from './route-context.js';
import type { EnvoyState } from './state.js';

export interface AttachedRoute extends RouteSource {
  readonly object: HTTPRoute | GRPCRoute;
  readonly parent: ParentReference;
  /**
   * A consumer route (GAMMA): a route in another namespace than its parent Service applies only to
   * clients of its own namespace.
   */
  readonly consumerNamespace?: string;
  /** creationTimestamp in ms; routes without one sort after those with one. */
  readonly createdMs: number;
}

export interface RouteIndex {
  /** Routes attached to the Service itself, filtered by the parentRef's port or sectionName. */
  forServicePort(service: ServiceInfo, port: ServicePortInfo): AttachedRoute[];
  /** Routes attached to the waypoint Gateway whose hostnames (if any) cover the service. */
  forWaypoint(waypoint: WaypointInfo, service: ServiceInfo): AttachedRoute[];
}

export function routeIndex(state: EnvoyState, notes: NoteSink): RouteIndex {
  const byParent = new Map<string, AttachedRoute[]>();
  const add = (kind: RouteSource['kind'], object: HTTPRoute | GRPCRoute) => {
    const namespace = object.metadata?.namespace ?? 'default';
    const name = object.metadata?.name ?? '';
    const created = object.metadata?.creationTimestamp;
    const createdMs = created === undefined ? Number.MAX_SAFE_INTEGER : new Date(created).getTime();
    for (const parent of object.spec?.parentRefs ?? []) {
      const parentNs = parent.namespace ?? namespace;
      const key = parentKey(parent, parentNs);
      if (!key) continue;
      const consumer = key.startsWith('Service/') && parentNs !== namespace;
      const list = byParent.get(key) ?? [];
      list.push({
        kind,
        namespace,
        name,
        object,
        parent,
        createdMs: Number.isNaN(createdMs) ? Number.MAX_SAFE_INTEGER : createdMs,
        ...(consumer ? { consumerNamespace: namespace } : {}),
      });
      byParent.set(key, list);
    }
  };
  for (const r of state.httpRoutes ?? []) add('HTTPRoute', r);
  for (const r of state.grpcRoutes ?? []) add('GRPCRoute', r);

  return {
    forServicePort(service, port) {
      return (byParent.get(`Service/${service.namespace}/${service.name}`) ?? []).filter(
        (r) =>
          (r.parent.port === undefined || r.parent.port === port.port) &&
          (r.parent.sectionName === undefined || r.parent.sectionName === port.name),
      );
    },
    forWaypoint(waypoint, service) {
      return (byParent.get(`Gateway/${waypoint.namespace}/${waypoint.name}`) ?? []).filter((r) => {
        if (waypoint.allowedFrom === 'Same' && r.namespace !== waypoint.namespace) {
          notes.add(
            r.kind,
            `${r.namespace}/${r.name}`,
            `waypoint ${waypoint.key} only accepts routes from its own namespace`,
          );
          return false;
        }
        if (waypoint.allowedFrom === 'Selector') {
          notes.add(
            r.kind,
            `${r.namespace}/${r.name}`,
            `waypoint ${waypoint.key} selects route namespaces by label, which is not supported; ignored`,
          );
          return false;
        }
        const hostnames = r.object.spec?.hostnames ?? [];
        return hostnames.length === 0 || hostnames.some((h) => hostnameCovers(h, service));
      });
    },
  };
}

function parentKey(p: ParentReference, namespace: string): string | undefined {
  const group = p.group ?? GATEWAY_GROUP;
  const kind = p.kind ?? 'Gateway';
  if ((group === '' || group === 'core') && kind === 'Service')
    return `Service/${namespace}/${p.name}`;
  if (group === GATEWAY_GROUP && kind === 'Gateway') return `Gateway/${namespace}/${p.name}`;
  return undefined;
}

/** Route hostnames against the service's names: full, `<name>.<ns>`, `<name>.<ns>.svc`, or a `*.` wildcard. */
function hostnameCovers(pattern: string, service: ServiceInfo): boolean {
  const names = [
    service.hostname,
    `${service.name}.${service.namespace}`,
    `${service.name}.${service.namespace}.svc`,
  ];
  if (pattern.startsWith('*.')) return names.some((n) => n.endsWith(pattern.slice(1)));
  return names.includes(pattern);
}
