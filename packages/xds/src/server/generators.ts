// Ready-made generators: a fixed resource map, and one that reads a snapshot shaped as
// "type URL -> name -> Any" (handy for tests and for owners that precompute every resource).
import type { Any } from '@bufbuild/protobuf/wkt';
import type { GeneratedResource, GeneratedResources, Generator } from './types.js';

/** A snapshot holding packed resources per type URL, then per name. */
export type ResourceSnapshot = ReadonlyMap<string, ReadonlyMap<string, Any>>;

/** Always serves the same resources, whatever the snapshot or proxy. */
export function staticGenerator(resources: ReadonlyMap<string, Any>): Generator<unknown> {
  const generated = wrap(resources);
  return () => generated;
}

/** Serves `snapshot.get(typeUrl)`. */
export const resourceSnapshotGenerator: Generator<ResourceSnapshot> = (typeUrl, snapshot) =>
  wrap(snapshot.get(typeUrl) ?? new Map());

// The wrapped maps are cached per input map, so the same snapshot yields the same objects.
const wrapped = new WeakMap<ReadonlyMap<string, Any>, GeneratedResources>();

function wrap(resources: ReadonlyMap<string, Any>): GeneratedResources {
  let out = wrapped.get(resources);
  if (!out) {
    const m = new Map<string, GeneratedResource>();
    for (const [name, resource] of resources) m.set(name, { resource });
    out = m;
    wrapped.set(resources, out);
  }
  return out;
}
