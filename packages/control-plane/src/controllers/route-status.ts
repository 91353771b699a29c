// HTTPRoute / GRPCRoute status: one `parents[]` entry per parentRef this controller is responsible
// for (a Gateway of a waypoint class, or a Service: GAMMA mesh routes), with Accepted and
// ResolvedRefs conditions whose reasons say what to fix. Pure.
import type { GatewayListener, GRPCRoute, HTTPRoute, ParentReference } from '../model/kube.js';
import { matchesSelector } from '../collections/selector.js';
import {
  condition,
  mergeConditions,
  generationOf,
  type Condition,
  type DesiredCondition,
} from './conditions.js';
import { isWaypointClass, type StatusContext } from './status-context.js';

export const CONTROLLER_NAME = 'trellis.dev/waypoint-controller';
const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute';

export interface RouteParentStatus {
  readonly parentRef: ParentReference;
  readonly controllerName: string;
  readonly conditions: Condition[];
}

/** Where an accepted parentRef attaches: a Gateway's listeners (for attachedRoutes counts). */
export interface RouteAttachment {
  readonly gateway: string;
  readonly listeners: readonly string[];
}

export interface RouteParentEvaluation {
  readonly parentRef: ParentReference;
  readonly accepted: DesiredCondition;
  readonly attachment?: RouteAttachment;
}

/** Evaluates the parentRefs we own; others (another implementation's Gateways) are left out. */
export function evaluateRouteParents(
  route: HTTPRoute | GRPCRoute,
  kind: RouteKind,
  ctx: StatusContext,
): RouteParentEvaluation[] {
  const routeNs = route.metadata?.namespace ?? 'default';
  const out: RouteParentEvaluation[] = [];
  for (const ref of route.spec?.parentRefs ?? []) {
    const ns = ref.namespace ?? routeNs;
    const refKind = ref.kind ?? 'Gateway';
    const group = ref.group ?? GATEWAY_GROUP;
    if (refKind === 'Service' && (group === '' || group === 'core')) {
      const svc = ctx.state.services.get(
        `${ns}/${ref.name}.${ns}.svc.${ctx.state.options.domainSuffix}`,
      );
      const accepted = !ctx.services.has(`${ns}/${ref.name}`)
        ? condition('Accepted', false, 'NoMatchingParent', `Service ${ns}/${ref.name} not found`)
        : svc?.waypoint
          ? condition('Accepted', true, 'Accepted', `bound to waypoint ${svc.waypoint.waypoint}`)
          : condition(
              'Accepted',
              true,
              'Accepted',
              `Service ${ns}/${ref.name} uses no waypoint yet: the route applies once it is bound to one (label istio.io/use-waypoint)`,
            );
      out.push({ parentRef: ref, accepted });
      continue;
    }
    if (refKind !== 'Gateway' || group !== GATEWAY_GROUP) continue;
    const gw = ctx.gateways.get(`${ns}/${ref.name}`);
    if (gw && !isWaypointClass(gw, ctx)) continue; // another controller's Gateway
    if (!gw) {
      out.push({
        parentRef: ref,
        accepted: condition(
          'Accepted',
          false,
          'NoMatchingParent',
          `Gateway ${ns}/${ref.name} not found`,
        ),
      });
      continue;
    }
    const listeners = (gw.spec?.listeners ?? []).filter(
      (l) =>
        (ref.sectionName === undefined || l.name === ref.sectionName) &&
        (ref.port === undefined || l.port === ref.port),
    );
    if (listeners.length === 0) {
      const what =
        ref.sectionName !== undefined
          ? `listener named "${ref.sectionName}"`
          : `listener on port ${ref.port}`;
      out.push({
        parentRef: ref,
        accepted: condition(
          'Accepted',
          false,
          'NoMatchingParent',
          `Gateway ${ns}/${ref.name} has no ${what}`,
        ),
      });
      continue;
    }
    const allowed = listeners.filter((l) =>
      allowsRoute(l, gw.metadata?.namespace ?? ns, routeNs, kind, ctx),
    );
    if (allowed.length === 0) {
      out.push({
        parentRef: ref,
        accepted: condition(
          'Accepted',
          false,
          'NotAllowedByListeners',
          `the listeners of Gateway ${ns}/${ref.name} do not allow ${kind}s from namespace ${routeNs} (spec.listeners[].allowedRoutes)`,
        ),
      });
      continue;
    }
    out.push({
      parentRef: ref,
      accepted: condition('Accepted', true, 'Accepted', `attached to waypoint ${ns}/${ref.name}`),
      attachment: { gateway: `${ns}/${ref.name}`, listeners: allowed.map((l) => l.name) },
    });
  }
  return out;
}

function allowsRoute(
  l: GatewayListener,
  gwNs: string,
  routeNs: string,
  kind: RouteKind,
  ctx: StatusContext,
): boolean {
  const kinds = l.allowedRoutes?.kinds;
  if (
    kinds &&
    kinds.length > 0 &&
    !kinds.some((k) => k.kind === kind && (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP)
  )
    return false;
  const from = l.allowedRoutes?.namespaces?.from ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return routeNs === gwNs;
  if (from === 'Selector') {
    const labels = ctx.namespaces.get(routeNs)?.metadata?.labels ?? {};
    return matchesSelector(l.allowedRoutes?.namespaces?.selector, labels);
  }
  return false;
}

/** ResolvedRefs: every backendRef names an existing Service in the route's namespace. */
export function resolvedRefs(route: HTTPRoute | GRPCRoute, ctx: StatusContext): DesiredCondition {
  const routeNs = route.metadata?.namespace ?? 'default';
  for (const rule of route.spec?.rules ?? []) {
    const refs = (rule['backendRefs'] ?? []) as {
      group?: string;
      kind?: string;
      name?: string;
      namespace?: string;
    }[];
    for (const ref of refs) {
      const kind = ref.kind ?? 'Service';
      const group = ref.group ?? '';
      if (kind !== 'Service' || (group !== '' && group !== 'core'))
        return condition(
          'ResolvedRefs',
          false,
          'InvalidKind',
          `backendRef ${group || 'core'}/${kind} ${ref.name ?? ''} is not supported; use a Service`,
        );
      const ns = ref.namespace ?? routeNs;
      if (ns !== routeNs)
        return condition(
          'ResolvedRefs',
          false,
          'RefNotPermitted',
          `backendRef to Service ${ns}/${ref.name ?? ''} crosses namespaces; Trellis does not read ReferenceGrants yet, so use a Service in ${routeNs}`,
        );
      if (!ctx.services.has(`${ns}/${ref.name ?? ''}`))
        return condition(
          'ResolvedRefs',
          false,
          'BackendNotFound',
          `backendRef Service ${ns}/${ref.name ?? ''} not found`,
        );
    }
  }
  return condition('ResolvedRefs', true, 'ResolvedRefs', 'all backendRefs resolved');
}

/**
 * The route's new `status.parents`: our entries (conditions merged with the existing ones) followed
 * by other controllers' entries unchanged. Undefined when we own no parentRef and have nothing to remove.
 */
export function routeStatus(
  route: HTTPRoute | GRPCRoute,
  kind: RouteKind,
  ctx: StatusContext,
): { parents: RouteParentStatus[] } | undefined {
  const existing = (route as { status?: { parents?: RouteParentStatus[] } }).status?.parents ?? [];
  const evaluations = evaluateRouteParents(route, kind, ctx);
  const theirs = existing.filter((p) => p.controllerName !== CONTROLLER_NAME);
  if (evaluations.length === 0 && theirs.length === existing.length) return undefined;
  const refs = resolvedRefs(route, ctx);
  const generation = generationOf(route);
  const ours = evaluations.map((e): RouteParentStatus => {
    const before = existing.find(
      (p) => p.controllerName === CONTROLLER_NAME && sameRef(p.parentRef, e.parentRef),
    );
    return {
      parentRef: e.parentRef,
      controllerName: CONTROLLER_NAME,
      conditions: mergeConditions(before?.conditions, [e.accepted, refs], generation, ctx.now),
    };
  });
  return { parents: [...ours, ...theirs] };
}

function sameRef(a: ParentReference | undefined, b: ParentReference): boolean {
  return (
    a !== undefined &&
    a.name === b.name &&
    (a.namespace ?? '') === (b.namespace ?? '') &&
    (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway') &&
    (a.sectionName ?? '') === (b.sectionName ?? '') &&
    (a.port ?? 0) === (b.port ?? 0)
  );
}
