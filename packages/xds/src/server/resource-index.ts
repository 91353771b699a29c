// Per generated result, computed once and shared by every stream that receives the same result
// object: its name -> version map, and the names that differ from an earlier result. This is what
// keeps a push of one changed resource to many wildcard streams O(changed) per stream. Pure.
import { resourceVersion } from '../versioning.js';
import type { GeneratedResources } from './types.js';

/** name -> version of every resource of a generated result. */
export type Versions = ReadonlyMap<string, string>;

const versionMaps = new WeakMap<GeneratedResources, Versions>();

/** The name -> version map of `generated` (a missing version is the hash of the bytes); cached per object. */
export function versionsOf(generated: GeneratedResources): Versions {
  let versions = versionMaps.get(generated);
  if (!versions) {
    const m = new Map<string, string>();
    for (const [name, r] of generated) m.set(name, r.version ?? resourceVersion(r.resource));
    versions = m;
    versionMaps.set(generated, versions);
  }
  return versions;
}

// For each earlier map, the last later map it was compared with and the result.
const changes = new WeakMap<Versions, { readonly next: Versions; readonly names: readonly string[] }>();

/** Names added, removed or with another version from `prev` to `next`; cached for the last `next` per `prev`. */
export function changedNames(prev: Versions, next: Versions): readonly string[] {
  if (prev === next) return [];
  const cached = changes.get(prev);
  if (cached?.next === next) return cached.names;
  const names: string[] = [];
  for (const [name, version] of next) if (prev.get(name) !== version) names.push(name);
  for (const name of prev.keys()) if (!next.has(name)) names.push(name);
  changes.set(prev, { next, names });
  return names;
}
