// Immutable maps in key order, changed by a few entries: the helpers the incremental stages
// (derivation, translation, packing) use to make each snapshot's maps from the previous ones
// (which stay untouched) and to find what changed between two. Pure.
import { SortedMap } from './sorted-map.js';

/**
 * `previous` with `changes` applied (undefined removes), in key order; `previous` when nothing
 * changed. The result is a SortedMap: made from a SortedMap it shares its unchanged chunks, and it
 * remembers the changes for `forEachChange`.
 */
export function withChanges<T>(
  previous: ReadonlyMap<string, T>,
  changes: ReadonlyMap<string, T | undefined>,
): ReadonlyMap<string, T> {
  if (changes.size === 0) return previous;
  if (previous instanceof SortedMap) return (previous as SortedMap<T>).with(changes);
  const entries: [string, T][] = [];
  for (const [key, value] of previous) {
    const change = changes.has(key) ? changes.get(key) : value;
    if (change !== undefined) entries.push([key, change]);
  }
  for (const [key, value] of changes)
    if (value !== undefined && !previous.has(key)) entries.push([key, value]);
  return SortedMap.from(entries).rebased(previous, changes);
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
  const made =
    after instanceof SortedMap ? (after as SortedMap<T>).changesSince(before) : undefined;
  if (made) {
    for (const key of made.keys()) {
      const value = after.get(key);
      if (before.get(key) !== value) changed(key, value);
    }
    return;
  }
  for (const [key, value] of after) if (before.get(key) !== value) changed(key, value);
  for (const key of before.keys()) if (!after.has(key)) changed(key, undefined);
}
