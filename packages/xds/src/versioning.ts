// Versions and nonces. A resource's version is a hash of its bytes unless the generator gives one;
// a state-of-the-world response's content version hashes its (name, version) pairs, so the server
// can tell "nothing changed for this proxy" without comparing messages.
import { createHash, randomBytes } from 'node:crypto';
import type { Any } from '@bufbuild/protobuf/wkt';

// Generators usually hand out the same Any objects for unchanged resources, so hashes are cached
// per object; a new object is hashed once.
const hashes = new WeakMap<Any, string>();

/** A short, stable version for a packed resource: base64url of its SHA-256, 16 characters. */
export function resourceVersion(any: Any): string {
  let v = hashes.get(any);
  if (v === undefined) {
    v = createHash('sha256').update(any.typeUrl).update('\0').update(any.value).digest('base64url');
    v = v.slice(0, 16);
    hashes.set(any, v);
  }
  return v;
}

/** A version for a set of resources given as (name, version) pairs, independent of their order. */
export function contentVersion(entries: Iterable<readonly [string, string]>): string {
  const lines = [...entries].map(([name, version]) => `${name}\0${version}\n`).sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line);
  return hash.digest('base64url').slice(0, 16);
}

/** Unique nonces: a random prefix per source (so a reconnecting client's old nonce never matches) and a counter. */
export function nonceSource(): () => string {
  const prefix = randomBytes(4).toString('hex');
  let n = 0;
  return () => `${prefix}-${++n}`;
}
