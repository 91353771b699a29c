// Header lists as the engine carries them: one flat array [name, value, name, value, ...] with
// lowercase names, in arrival order, repeated names kept. Pseudo-headers (:method, :path,
// :authority, :scheme, :status) are never in the list: they are fields of the request or response
// head. Flat arrays are what node:http2 and our HTTP/1.1 codec both read and write without
// reshaping, and a linear scan over ~10 headers is cheaper than building a map per request.

export type HeaderList = string[];

/** The first value of `name` (lowercase), or undefined. */
export function getHeader(h: readonly string[], name: string): string | undefined {
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1];
  return undefined;
}

/** Every value of `name` joined with "," (as a proxy may merge them), or undefined. */
export function getHeaderJoined(h: readonly string[], name: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] !== name) continue;
    out = out === undefined ? h[i + 1] : `${out},${h[i + 1]}`;
  }
  return out;
}

export function hasHeader(h: readonly string[], name: string): boolean {
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) return true;
  return false;
}

/** Removes every `name`; returns whether one was there. */
export function removeHeader(h: HeaderList, name: string): boolean {
  let w = 0;
  for (let r = 0; r < h.length; r += 2) {
    if (h[r] === name) continue;
    if (w !== r) {
      h[w] = h[r]!;
      h[w + 1] = h[r + 1]!;
    }
    w += 2;
  }
  const removed = w !== h.length;
  h.length = w;
  return removed;
}

/** Replaces every `name` with one `name: value`. */
export function setHeader(h: HeaderList, name: string, value: string): void {
  removeHeader(h, name);
  h.push(name, value);
}

/** Adds `name: value` after those present. */
export function addHeader(h: HeaderList, name: string, value: string): void {
  h.push(name, value);
}

/** Appends `address` to x-forwarded-for (the values present joined into one header, as Envoy). */
export function appendForwardedFor(h: HeaderList, address: string): void {
  const present = getHeaderJoined(h, 'x-forwarded-for');
  setHeader(h, 'x-forwarded-for', present === undefined ? address : `${present},${address}`);
}

/**
 * Connection-specific (hop-by-hop) headers (RFC 9110 §7.6.1): never forwarded. `te` is kept only
 * as "trailers" (which HTTP/2 and gRPC need); names listed in Connection go too.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
  'proxy-authorization',
  'http2-settings',
]);

/** Lengths of the hop-by-hop names: most header names are rejected on their length alone. */
const HOP_BY_HOP_LENGTHS = new Set([...HOP_BY_HOP].map((n) => n.length));

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP_LENGTHS.has(name.length) && HOP_BY_HOP.has(name);
}

/**
 * Drops hop-by-hop headers and those the Connection header names, in place. `te: trailers` is kept
 * (gRPC needs it end to end). Returns the list for chaining.
 */
export function stripHopByHop(h: HeaderList): HeaderList {
  let named: Set<string> | undefined;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] !== 'connection') continue;
    for (const token of h[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t !== '' && t !== 'close' && t !== 'keep-alive') (named ??= new Set()).add(t);
    }
  }
  let w = 0;
  for (let r = 0; r < h.length; r += 2) {
    const name = h[r]!;
    const value = h[r + 1]!;
    if (isHopByHop(name) || named?.has(name)) {
      if (!(name === 'te' && value.trim().toLowerCase() === 'trailers')) continue;
    }
    if (w !== r) {
      h[w] = name;
      h[w + 1] = value;
    }
    w += 2;
  }
  h.length = w;
  return h;
}

/** A header list from a plain object (tests, node:http2 header objects). */
export function headerListFrom(
  obj: Readonly<Record<string, string | readonly string[] | number | undefined>>,
): HeaderList {
  const out: HeaderList = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || k.startsWith(':')) continue;
    const name = k.toLowerCase();
    if (Array.isArray(v)) for (const x of v as readonly string[]) out.push(name, x);
    else out.push(name, String(v));
  }
  return out;
}
