// Ready-made generators: a fixed resource map, and one that reads a snapshot shaped as
// "type URL -> name -> Any" (handy for tests and for owners that precompute every resource).
import type { Any } from '@bufbuild/protobuf/wkt';
import type { GeneratedResource, GeneratedResources, Generator, Proxy } from './types.js';

/**
 * Marks `generate` as producing one result per snapshot, type and `scope(proxy)` (default: the
 * same for every proxy), so the server calls it once for all the proxies of a scope.
 */
export function sharedGenerator<S>(
  generate: (typeUrl: string, snapshot: S, proxy: Proxy) => GeneratedResources,
  scope: (proxy: Proxy, typeUrl: string) => string = () => '',
): Generator<S> {
  return Object.assign((t: string, s: S, p: Proxy) => generate(t, s, p), { scope });
}

/** A snapshot holding packed resources per type URL, then per name. */
export type ResourceSnapshot = ReadonlyMap<string, ReadonlyMap<string, Any>>;

/** Always serves the same resources, whatever the snapshot or proxy. */
export function staticGenerator(resources: ReadonlyMap<string, Any>): Generator<unknown> {
  const generated = wrap(resources);
  return sharedGenerator(() => generated);
}

/** Serves `snapshot.get(typeUrl)`, once per snapshot and type for all proxies. */
export const resourceSnapshotGenerator: Generator<ResourceSnapshot> = sharedGenerator(
  (typeUrl, snapshot) => wrap(snapshot.get(typeUrl) ?? EMPTY),
);
const EMPTY: ReadonlyMap<string, Any> = new Map();

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
