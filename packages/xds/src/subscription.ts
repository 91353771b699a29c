// What a client asked for, per type URL: every resource (wildcard), some names, or both.
// Shared by the server (tracking each stream) and the client (building requests). Pure.
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL } from '@trellis/api';

export const WILDCARD = '*';

export interface Subscription {
  /** Every resource of the type, whatever its name. */
  readonly wildcard: boolean;
  /** Names asked for explicitly (never contains "*"). */
  readonly names: ReadonlySet<string>;
}

export const NOTHING: Subscription = { wildcard: false, names: new Set() };
/** Every resource. */
export const WILDCARD_ALL: Subscription = { wildcard: true, names: new Set() };

// Types whose resources are only ever asked for by name (Envoy fetches routes and endpoints named
// by listeners and clusters, and TLS secrets), so an empty name list subscribes to nothing.
const NAMED_ONLY = new Set([
  ROUTE_CONFIGURATION_TYPE_URL,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
]);

/**
 * Whether an empty name list means "everything" (a legacy wildcard): true for Listener, Cluster,
 * the WDS types and anything else not in the named-only set above.
 */
export function emptyMeansWildcard(typeUrl: string): boolean {
  return !NAMED_ONLY.has(typeUrl);
}

/** The subscription a state-of-the-world request's resource_names express. */
export function sotwSubscription(typeUrl: string, resourceNames: readonly string[]): Subscription {
  if (resourceNames.length === 0) {
    return emptyMeansWildcard(typeUrl) ? { wildcard: true, names: new Set() } : NOTHING;
  }
  const names = new Set(resourceNames.filter((n) => n !== WILDCARD));
  return { wildcard: resourceNames.includes(WILDCARD), names };
}

/**
 * Applies one delta request's subscribe/unsubscribe lists. `first` marks the stream's first request
 * for the type, where an empty subscribe list is a legacy wildcard.
 */
export function applyDelta(
  current: Subscription,
  typeUrl: string,
  subscribe: readonly string[],
  unsubscribe: readonly string[],
  first: boolean,
): Subscription {
  let wildcard = current.wildcard;
  const names = new Set(current.names);
  if (first && subscribe.length === 0 && emptyMeansWildcard(typeUrl)) wildcard = true;
  for (const name of subscribe) {
    if (name === WILDCARD) wildcard = true;
    else names.add(name);
  }
  for (const name of unsubscribe) {
    if (name === WILDCARD) wildcard = false;
    else names.delete(name);
  }
  return { wildcard, names };
}

/** Whether `name` is part of the subscription. */
export function covers(sub: Subscription, name: string): boolean {
  return sub.wildcard || sub.names.has(name);
}

export function sameSubscription(a: Subscription, b: Subscription): boolean {
  if (a.wildcard !== b.wildcard || a.names.size !== b.names.size) return false;
  for (const n of a.names) if (!b.names.has(n)) return false;
  return true;
}

/** The names as a sorted list, "*" first when wildcard: for requests and debug output. */
export function subscriptionNames(sub: Subscription): string[] {
  const names = [...sub.names].sort();
  return sub.wildcard ? [WILDCARD, ...names] : names;
}

/** The resource_names a state-of-the-world request sends for `sub` (empty for a plain legacy wildcard). */
export function sotwResourceNames(typeUrl: string, sub: Subscription): string[] {
  if (sub.wildcard && sub.names.size === 0 && emptyMeansWildcard(typeUrl)) return [];
  return subscriptionNames(sub);
}
