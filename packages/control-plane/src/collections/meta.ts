// Null-safe readers for object metadata (objects from the API may omit empty maps).
import type { ObjectMeta } from '../model/kube.js';

interface HasMeta {
  metadata?: ObjectMeta;
}

export function nameOf(o: HasMeta): string {
  return o.metadata?.name ?? '';
}

export function namespaceOf(o: HasMeta): string {
  return o.metadata?.namespace ?? '';
}

/** `<namespace>/<name>` */
export function keyOf(o: HasMeta): string {
  return `${namespaceOf(o)}/${nameOf(o)}`;
}

export function labelsOf(o: HasMeta | undefined): Record<string, string> {
  return o?.metadata?.labels ?? {};
}

export function annotationsOf(o: HasMeta | undefined): Record<string, string> {
  return o?.metadata?.annotations ?? {};
}

/** Creation time in ms since the epoch; objects without one sort last. */
export function createdMs(o: HasMeta): number {
  const t = o.metadata?.creationTimestamp;
  if (t === undefined) return Number.MAX_SAFE_INTEGER;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? Number.MAX_SAFE_INTEGER : ms;
}

/** Oldest first, then by namespace/name, which is how Istio picks between conflicting policies. */
export function oldestFirst<T extends HasMeta>(a: T, b: T): number {
  return createdMs(a) - createdMs(b) || compareStrings(keyOf(a), keyOf(b));
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
