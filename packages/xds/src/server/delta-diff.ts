// What a delta response must carry: resources whose version differs from what the client holds,
// names it holds that are gone, and an answer for every newly subscribed name. Pure.
import { changedNames, type Versions } from './resource-index.js';

export interface DeltaDiff {
  /** Names to send (new or changed, or re-subscribed). */
  readonly updated: readonly string[];
  /** Names for removed_resources. */
  readonly removed: readonly string[];
}

/**
 * @param known what the client holds: name -> version
 * @param desired what it should hold now: name -> version (already limited to its subscription)
 * @param newlySubscribed names subscribed since the last response: sent even when the client
 *   seems to hold them, and reported removed when they do not exist
 */
export function deltaDiff(
  known: ReadonlyMap<string, string>,
  desired: ReadonlyMap<string, string>,
  newlySubscribed: ReadonlySet<string>,
): DeltaDiff {
  const updated: string[] = [];
  const removed: string[] = [];
  for (const [name, version] of desired) {
    if (known.get(name) !== version || newlySubscribed.has(name)) updated.push(name);
  }
  for (const name of known.keys()) if (!desired.has(name)) removed.push(name);
  for (const name of newlySubscribed) {
    if (!desired.has(name) && !known.has(name)) removed.push(name);
  }
  return { updated: updated.sort(), removed: removed.sort() };
}

/**
 * The same answer as `deltaDiff` when the client holds exactly `previous` (what it was last sent)
 * and subscribes to every name: only the names changed between `previous` and `desired` are looked
 * at. Costs O(changed) per stream once `changedNames` is cached for the pair.
 */
export function deltaDiffSince(
  known: ReadonlyMap<string, string>,
  previous: Versions,
  desired: Versions,
): DeltaDiff {
  const updated: string[] = [];
  const removed: string[] = [];
  for (const name of changedNames(previous, desired)) {
    const version = desired.get(name);
    if (version === undefined) {
      if (known.has(name)) removed.push(name);
    } else if (known.get(name) !== version) updated.push(name);
  }
  return { updated: updated.sort(), removed: removed.sort() };
}
