// Gateway API `allowedRoutes`: who may attach to a listener. One function for every decision that
// depends on it (a waypoint's bindings through istio.io/use-waypoint, routes attached to a
// waypoint's listener, and the status that reports both), so they cannot disagree. Pure.
import {
  GATEWAY_GROUP,
  type AllowedNamespaces,
  type GatewayListener,
} from '../model/gateway-api.js';
import { matchesSelector } from './selector.js';

/**
 * Whether an object in `namespace` (whose labels are `namespaceLabels`) may attach to a listener
 * of a Gateway in `gatewayNamespace`: `Same` (the default) that namespace only, `All` any,
 * `Selector` namespaces whose labels match the selector (none without a selector). A value the
 * spec does not know allows nothing.
 */
export function allowsNamespace(
  allowed: AllowedNamespaces,
  gatewayNamespace: string,
  namespace: string,
  namespaceLabels: Record<string, string>,
): boolean {
  switch (allowed.from) {
    case 'All':
      return true;
    case 'Same':
      return namespace === gatewayNamespace;
    case 'Selector':
      return allowed.selector !== undefined && matchesSelector(allowed.selector, namespaceLabels);
    default:
      return false;
  }
}

/** Whether a route of `kind` (in the Gateway API group) may attach: any kind when none are listed. */
export function allowsKind(listener: GatewayListener, kind: string): boolean {
  const kinds = listener.allowedRoutes.kinds;
  return kinds.length === 0 || kinds.some((k) => k.kind === kind && k.group === GATEWAY_GROUP);
}

/** Why a namespace may not attach, for notes and status messages. */
export function describeAllowed(allowed: AllowedNamespaces): string {
  switch (allowed.from) {
    case 'All':
      return 'all namespaces';
    case 'Same':
      return 'its own namespace only';
    case 'Selector':
      return allowed.selector
        ? 'namespaces matching its selector'
        : 'no namespace (from: Selector without a selector)';
    default:
      return `no namespace (unknown from: ${allowed.from})`;
  }
}
