// Route status (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute): one `parents[]` entry per parentRef this
// control plane is responsible for (a Gateway of a waypoint class, or a Service: GAMMA, under the
// waypoint controller's name; a Gateway of an ingress class under the gateway controller's), rendered from the attachment decisions
// the Envoy translators serve (translate/envoy/route-attachment.ts): Accepted, ResolvedRefs and,
// when some rules had to be dropped, PartiallyInvalid. Other controllers' entries are kept. Pure.
import type { WrittenParentReference } from '../model/gateway-api.js';
import type { AnyRoute, RouteResult } from '../translate/envoy/route-attachment.js';
import { GATEWAY_CONTROLLER } from '../translate/envoy/gateway-listeners.js';
import { condition, generationOf, mergeConditions, type Condition } from './conditions.js';

export const CONTROLLER_NAME = 'trellis.dev/waypoint-controller';
/** The controller of the ingress GatewayClasses (`trellis`, `istio`). */
export const GATEWAY_CONTROLLER_NAME = GATEWAY_CONTROLLER;
const OURS = new Set([CONTROLLER_NAME, GATEWAY_CONTROLLER_NAME]);

/** The condition types this controller writes on a route parent (others' types are kept). */
const ROUTE_CONDITIONS = ['Accepted', 'ResolvedRefs', 'PartiallyInvalid'];

export interface RouteParentStatus {
  readonly parentRef: WrittenParentReference;
  readonly controllerName: string;
  readonly conditions: readonly Condition[];
}

/**
 * The route's new `status.parents`: our entries (conditions merged with the existing ones) followed
 * by other controllers' entries unchanged. Undefined when we own no parentRef and have nothing to
 * remove.
 */
export function routeStatus(
  result: RouteResult,
  now: string,
): { parents: RouteParentStatus[] } | undefined {
  const route: AnyRoute = result.object;
  const existing = route.status.parents;
  const theirs = existing.filter((p) => !OURS.has(p.controllerName));
  if (result.parents.length === 0 && theirs.length === existing.length) return undefined;
  const generation = generationOf(route.metadata);
  const ours = result.parents.map((p): RouteParentStatus => {
    const controllerName = p.ingress ? GATEWAY_CONTROLLER_NAME : CONTROLLER_NAME;
    const before = existing.find(
      (e) => e.controllerName === controllerName && sameRef(e.parentRef, p.parentRef.written),
    );
    return {
      parentRef: p.parentRef.written,
      controllerName,
      conditions: mergeConditions(
        before?.conditions,
        p.conditions.map((c) => condition(c.type, c.status, c.reason, c.message)),
        generation,
        now,
        ROUTE_CONDITIONS,
      ),
    };
  });
  return { parents: [...ours, ...(theirs as RouteParentStatus[])] };
}

function sameRef(a: WrittenParentReference, b: WrittenParentReference): boolean {
  return (
    a.name === b.name &&
    (a.namespace ?? '') === (b.namespace ?? '') &&
    (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway') &&
    (a.group ?? '') === (b.group ?? '') &&
    (a.sectionName ?? '') === (b.sectionName ?? '') &&
    (a.port ?? 0) === (b.port ?? 0)
  );
}
