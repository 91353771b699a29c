// Per generated result, computed once and shared by every stream that receives the same result
// object: its name -> version map (a view, no copy), and the names that differ from an earlier
// result (from the result's own change tracking when it has some, else by walking both). This is
// what keeps a push of one changed resource to many wildcard streams O(changed) per stream. Pure.
import { resourceVersion } from '../versioning.js';
import type { GeneratedResource, GeneratedResources } from './types.js';

/** name -> version of every resource of a generated result. */
export type Versions = ReadonlyMap<string, string>;

/**
 * Optional on a generated result: the names that may differ from `earlier` (a superset is fine),
 * when the result was made from it, e.g. by a persistent map; undefined when it cannot tell.
 * Lets the server find a push's changed names without walking every resource.
 */
export interface ChangeTracking {
  changesSince(earlier: GeneratedResources): ReadonlyMap<string, unknown> | undefined;
}

// A missing version is the hash of the bytes, computed once per resource object.
const hashes = new WeakMap<GeneratedResource, string>();
function versionOf(r: GeneratedResource): string {
  if (r.version !== undefined) return r.version;
  let hash = hashes.get(r);
  if (hash === undefined) hashes.set(r, (hash = resourceVersion(r.resource)));
  return hash;
}

/**
 * The versions of a generated result: single names are read through to it; the first walk copies
 * every version once (later walks reuse the copy), and a push that only needs the changed names
 * (see changedNames) never walks.
 */
class VersionView implements Versions {
  private all: Map<string, string> | undefined;
  constructor(readonly generated: GeneratedResources) {}
  private walked(): Map<string, string> {
    if (!this.all) {
      this.all = new Map();
      for (const [name, r] of this.generated) this.all.set(name, versionOf(r));
    }
    return this.all;
  }
  get size(): number {
    return this.generated.size;
  }
  get(name: string): string | undefined {
    const r = this.generated.get(name);
    return r && versionOf(r);
  }
  has(name: string): boolean {
    return this.generated.has(name);
  }
  entries(): MapIterator<[string, string]> {
    return this.walked().entries();
  }
  keys(): MapIterator<string> {
    return this.walked().keys();
  }
  values(): MapIterator<string> {
    return this.walked().values();
  }
  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.walked().entries();
  }
  forEach(callback: (value: string, key: string, map: Versions) => void, thisArg?: unknown): void {
    for (const [name, version] of this.walked()) callback.call(thisArg, version, name, this);
  }
}

const versionMaps = new WeakMap<GeneratedResources, Versions>();

/** The name -> version map of `generated` (a missing version is the hash of the bytes); cached per object. */
export function versionsOf(generated: GeneratedResources): Versions {
  let versions = versionMaps.get(generated);
  if (!versions) {
    versions = new VersionView(generated);
    versionMaps.set(generated, versions);
  }
  return versions;
}

// For each earlier map, the last later map it was compared with and the result.
const changes = new WeakMap<
  Versions,
  { readonly next: Versions; readonly names: readonly string[] }
>();

function hintedChanges(prev: Versions, next: Versions): ReadonlyMap<string, unknown> | undefined {
  if (!(prev instanceof VersionView) || !(next instanceof VersionView)) return undefined;
  const tracking = next.generated as Partial<ChangeTracking>;
  return typeof tracking.changesSince === 'function'
    ? tracking.changesSince(prev.generated)
    : undefined;
}

/** Names added, removed or with another version from `prev` to `next`; cached for the last `next` per `prev`. */
export function changedNames(prev: Versions, next: Versions): readonly string[] {
  if (prev === next) return [];
  const cached = changes.get(prev);
  if (cached?.next === next) return cached.names;
  const names: string[] = [];
  const hinted = hintedChanges(prev, next);
  if (hinted) {
    for (const name of hinted.keys()) if (prev.get(name) !== next.get(name)) names.push(name);
  } else {
    for (const [name, version] of next) if (prev.get(name) !== version) names.push(name);
    for (const name of prev.keys()) if (!next.has(name)) names.push(name);
  }
  changes.set(prev, { next, names });
  return names;
}
