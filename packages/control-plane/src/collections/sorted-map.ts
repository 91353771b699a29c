// A persistent map in key order, for the incremental stages' outputs. Entries live in sorted chunks
// of about CHUNK entries; a new version with a few changed entries copies only the chunks they fall
// in and the list of chunks, and shares everything else with the version it was made from, so a
// one-pod change neither copies 11,000 entries nor leaves a large map for the garbage collector.
// A version remembers (weakly) the version it was made from and the changes applied, so the
// changes between the two are known without walking either. Immutable; pure.
import { compareStrings } from './meta.js';

const CHUNK = 64;

interface Chunk<V> {
  readonly keys: readonly string[];
  readonly values: readonly V[];
}

/** Position of `key` in sorted `keys`, or -(insertion point) - 1. */
function search(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareStrings(keys[mid]!, key);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

export class SortedMap<V> implements ReadonlyMap<string, V> {
  private constructor(
    private readonly chunks: readonly Chunk<V>[],
    readonly size: number,
    private readonly origin?: {
      readonly base: WeakRef<ReadonlyMap<string, V>>;
      readonly changes: ReadonlyMap<string, V | undefined>;
    },
  ) {}

  /** From entries with unique keys, in any order (sorted here unless they already are). */
  static from<V>(entries: readonly (readonly [string, V])[]): SortedMap<V> {
    const ordered = entries.every(
      (e, i) => i === 0 || compareStrings(entries[i - 1]![0], e[0]) < 0,
    );
    return SortedMap.fromSorted(
      ordered ? entries : [...entries].sort((a, b) => compareStrings(a[0], b[0])),
    );
  }

  /** From entries whose keys are unique and already in key order. */
  static fromSorted<V>(entries: Iterable<readonly [string, V]>): SortedMap<V> {
    const chunks: Chunk<V>[] = [];
    let keys: string[] = [];
    let values: V[] = [];
    let size = 0;
    for (const [k, v] of entries) {
      keys.push(k);
      values.push(v);
      size++;
      if (keys.length === CHUNK) {
        chunks.push({ keys, values });
        keys = [];
        values = [];
      }
    }
    if (keys.length > 0) chunks.push({ keys, values });
    return new SortedMap(chunks, size);
  }

  /** Index of the chunk that holds (or would hold) `key`. */
  private chunkOf(key: string): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (compareStrings(this.chunks[mid]!.keys[0]!, key) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  get(key: string): V | undefined {
    const chunk = this.chunks[this.chunkOf(key)];
    if (!chunk) return undefined;
    const i = search(chunk.keys, key);
    return i >= 0 ? chunk.values[i] : undefined;
  }

  has(key: string): boolean {
    const chunk = this.chunks[this.chunkOf(key)];
    return chunk !== undefined && search(chunk.keys, key) >= 0;
  }

  /** A new version with `changes` applied (`undefined` removes); this one is left as it is. */
  with(changes: ReadonlyMap<string, V | undefined>): SortedMap<V> {
    if (changes.size === 0) return this;
    if (this.chunks.length === 0)
      return SortedMap.fromSorted(
        [...changes]
          .filter((e): e is [string, V] => e[1] !== undefined)
          .sort((a, b) => compareStrings(a[0], b[0])),
      ).rebased(this, changes);
    const byChunk = new Map<number, [string, V | undefined][]>();
    for (const entry of changes) {
      const ci = this.chunkOf(entry[0]);
      const list = byChunk.get(ci);
      if (list) list.push(entry);
      else byChunk.set(ci, [entry]);
    }
    let size = this.size;
    const replaced = new Map<number, Chunk<V>[]>();
    for (const [ci, entries] of byChunk) {
      const keys = [...this.chunks[ci]!.keys];
      const values = [...this.chunks[ci]!.values];
      for (const [key, value] of entries) {
        const i = search(keys, key);
        if (i >= 0 && value === undefined) {
          keys.splice(i, 1);
          values.splice(i, 1);
          size--;
        } else if (i >= 0) values[i] = value!;
        else if (value !== undefined) {
          keys.splice(-i - 1, 0, key);
          values.splice(-i - 1, 0, value);
          size++;
        }
      }
      const pieces: Chunk<V>[] = [];
      for (let at = 0; at < keys.length; at += CHUNK)
        pieces.push({ keys: keys.slice(at, at + CHUNK), values: values.slice(at, at + CHUNK) });
      replaced.set(ci, pieces);
    }
    const chunks: Chunk<V>[] = [];
    this.chunks.forEach((chunk, ci) => {
      const pieces = replaced.get(ci);
      if (pieces) chunks.push(...pieces);
      else chunks.push(chunk);
    });
    return new SortedMap(chunks, size, { base: new WeakRef(this), changes });
  }

  /** The same entries, remembered as made from `base` with `changes`. */
  rebased(base: ReadonlyMap<string, V>, changes: ReadonlyMap<string, V | undefined>): SortedMap<V> {
    return new SortedMap(this.chunks, this.size, { base: new WeakRef(base), changes });
  }

  /** The changes this version was made with, if it was made from `before`; else undefined. */
  changesSince(before: ReadonlyMap<string, V>): ReadonlyMap<string, V | undefined> | undefined {
    return this.origin && this.origin.base.deref() === before ? this.origin.changes : undefined;
  }

  *entries(): MapIterator<[string, V]> {
    for (const chunk of this.chunks)
      for (let i = 0; i < chunk.keys.length; i++) yield [chunk.keys[i]!, chunk.values[i]!];
  }

  *keys(): MapIterator<string> {
    for (const chunk of this.chunks) yield* chunk.keys;
  }

  *values(): MapIterator<V> {
    for (const chunk of this.chunks) yield* chunk.values;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(
    callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void,
    thisArg?: unknown,
  ): void {
    for (const [k, v] of this) callback.call(thisArg, v, k, this);
  }
}
