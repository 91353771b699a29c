// Immutable maps in key order, changed by a few entries: copy-on-write helpers for the incremental
// stages (derivation, translation, packing), which keep each snapshot's maps untouched. Pure.
import { compareStrings } from './meta.js';

/** `previous` with `changes` applied (undefined removes), in key order; `previous` when nothing changed. */
export function withChanges<T>(previous: ReadonlyMap<string, T>, changes: ReadonlyMap<string, T | undefined>): ReadonlyMap<string, T> {
  if (changes.size === 0) return previous;
  let added = false;
  let removed = false;
  for (const [key, value] of changes) {
    if (value === undefined) removed ||= previous.has(key);
    else added ||= !previous.has(key);
  }
  if (!added && !removed) {
    const next = new Map(previous);
    for (const [key, value] of changes) if (value !== undefined) next.set(key, value);
    return next;
  }
  const entries: [string, T][] = [];
  for (const [key, value] of previous) {
    const change = changes.has(key) ? changes.get(key) : value;
    if (change !== undefined) entries.push([key, change]);
  }
  for (const [key, value] of changes) if (value !== undefined && !previous.has(key)) entries.push([key, value]);
  if (added) entries.sort((a, b) => compareStrings(a[0], b[0]));
  return new Map(entries);
}

/**
 * Calls `changed(key, value)` for every key whose value differs (by identity) from `before` to
 * `after`, with `undefined` for removed keys. Nothing to do when both are the same map.
 */
export function forEachChange<T>(
  before: ReadonlyMap<string, T>,
  after: ReadonlyMap<string, T>,
  changed: (key: string, value: T | undefined) => void,
): void {
  if (before === after) return;
  for (const [key, value] of after) if (before.get(key) !== value) changed(key, value);
  for (const key of before.keys()) if (!after.has(key)) changed(key, undefined);
}
