// Readers for the fields of a raw Kubernetes object: each checks one value's JSON type and either
// returns it typed or throws a ShapeError naming the field's path, what was expected and what was
// found. Absent and null count as "not set" (as in the API server's JSON). Pure.

export class ShapeError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly found: unknown,
  ) {
    super(`${path ? `${path}: ` : ''}expected ${expected}, got ${describe(found)}`);
  }
}

export type Fields = Readonly<Record<string, unknown>>;
export type Read<T> = (value: unknown, path: string) => T;

/** A short description of a value for messages (strings cut at 40 characters). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return 'a date';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string "${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
  return `${typeof v} ${String(v)}`;
}

export function isMap(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

const absent = (v: unknown) => v === undefined || v === null;

/**
 * `v` without its null-valued map entries, at any depth (YAML's `field:` is null, which the API
 * server's JSON never holds: it means "not set"). The same object when there are none.
 */
export function withoutNulls<T>(v: T): T {
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    v.forEach((x, i) => {
      const y = withoutNulls(x);
      if (y !== x) (copy ??= [...v])[i] = y;
    });
    return (copy ?? v) as T;
  }
  if (!isMap(v)) return v;
  let copy: Record<string, unknown> | undefined;
  for (const [k, x] of Object.entries(v)) {
    if (x === null) {
      copy ??= { ...v };
      delete copy[k];
      continue;
    }
    const y = withoutNulls(x);
    if (y !== x) (copy ??= { ...v })[k] = y;
  }
  return (copy ?? v) as T;
}

/** A TCP/UDP port number, 1-65535. */
export function port(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535)
    throw new ShapeError(path, 'a port number (1-65535)', v);
  return v;
}

export function optPort(v: unknown, path: string): number | undefined {
  return absent(v) ? undefined : port(v, path);
}

/** `path.field`, or the field alone at the top. */
export function at(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

export function map(v: unknown, path: string): Fields {
  if (!isMap(v)) throw new ShapeError(path, 'a map', v);
  return v;
}

/** A map, or an empty one when not set. */
export function optMap(v: unknown, path: string): Fields {
  return absent(v) ? {} : map(v, path);
}

export function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new ShapeError(path, 'a string', v);
  return v;
}

export function optStr(v: unknown, path: string): string | undefined {
  return absent(v) ? undefined : str(v, path);
}

/** A string that must be set and not empty (names, kinds). */
export function name(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') throw new ShapeError(path, 'a non-empty string', v);
  return v;
}

export function int(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new ShapeError(path, 'an integer', v);
  return v;
}

export function optInt(v: unknown, path: string): number | undefined {
  return absent(v) ? undefined : int(v, path);
}

export function optBool(v: unknown, path: string): boolean | undefined {
  if (absent(v)) return undefined;
  if (typeof v !== 'boolean') throw new ShapeError(path, 'true or false', v);
  return v;
}

/** An integer or a string (Kubernetes IntOrString). */
/** A port number or a port name (Kubernetes IntOrString as a target port). */
export function optPortOrName(v: unknown, path: string): number | string | undefined {
  if (absent(v) || typeof v === 'string') return v as string | undefined;
  return port(v, path);
}

/** An RFC 3339 time as text (YAML, watch events) or a Date (client-node lists). */
export function optTime(v: unknown, path: string): string | Date | undefined {
  if (absent(v)) return undefined;
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new ShapeError(path, 'a time', v);
    return v;
  }
  if (typeof v !== 'string') throw new ShapeError(path, 'a time (RFC 3339 text)', v);
  return v;
}

/** A list read item by item; an empty list when not set. */
export function list<T>(v: unknown, path: string, item: Read<T>): T[] {
  if (absent(v)) return [];
  if (!Array.isArray(v)) throw new ShapeError(path, 'a list', v);
  return v.map((x, i) => item(x, `${path}[${i}]`));
}

export function strings(v: unknown, path: string): string[] {
  return list(v, path, str);
}

/** A map of strings (labels, annotations, selectors); an empty one when not set. */
export function stringMap(v: unknown, path: string): Record<string, string> {
  const m = optMap(v, path);
  for (const [k, x] of Object.entries(m))
    if (typeof x !== 'string')
      throw new ShapeError(`${path}["${k}"]`, 'a string (quote numbers and booleans)', x);
  return m as Record<string, string>;
}

/** Checks a list of maps with `check` for its side effect (the list is kept as it is). */
export function eachMap(v: unknown, path: string, check: (m: Fields, path: string) => void): void {
  list(v, path, (x, p) => check(map(x, p), p));
}

/** Reads `read(v)`; a ShapeError becomes `undefined` (for parts read leniently, such as status). */
export function lenient<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    if (err instanceof ShapeError) return undefined;
    throw err;
  }
}

/** `list`, leaving out the items `item` cannot read. */
export function lenientList<T>(v: unknown, path: string, item: Read<T>): T[] {
  if (!Array.isArray(v)) return [];
  const out: T[] = [];
  v.forEach((x, i) => {
    const r = lenient(() => item(x, `${path}[${i}]`));
    if (r !== undefined) out.push(r);
  });
  return out;
}
