// Path normalisation before routing and policy (HCM normalize_path / merge_slashes): RFC 3986
// dot-segment removal, percent-decoding of unreserved characters, "//" merged. A path that climbs
// above the root, or carries an encoded "/", "\" or NUL, is refused (400) rather than guessed at,
// so "/admin" cannot be reached as "/public/../admin" or "/%61dmin" past a policy on "/admin".

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** The normalised path (query kept as is), or undefined when it must be refused. */
export function normalizePath(
  path: string,
  normalize: boolean,
  mergeSlashes: boolean,
): string | undefined {
  const q = path.indexOf('?');
  let p = q === -1 ? path : path.slice(0, q);
  const query = q === -1 ? '' : path.slice(q);
  if (!p.startsWith('/')) return p === '*' ? path : undefined;
  // Nothing to decode, no dot segment, no "//": the path is already normal (the common case).
  if (
    !p.includes('%') &&
    !p.includes('\\') &&
    !p.includes('/.') &&
    !(mergeSlashes && p.includes('//'))
  )
    return path;
  if (normalize) {
    if (/%(2f|5c|00)/i.test(p) || p.includes('\\')) return undefined;
    p = p.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
      const c = String.fromCharCode(parseInt(hex, 16));
      return UNRESERVED.test(c) ? c : m.toUpperCase();
    });
    const out: string[] = [];
    const segs = p.split('/');
    for (let i = 1; i < segs.length; i++) {
      const s = segs[i]!;
      if (s === '.') {
        if (i === segs.length - 1) out.push('');
        continue;
      }
      if (s === '..') {
        if (out.length === 0) return undefined;
        out.pop();
        if (i === segs.length - 1) out.push('');
        continue;
      }
      out.push(s);
    }
    p = `/${out.join('/')}`;
  }
  if (mergeSlashes) p = p.replace(/\/{2,}/g, '/');
  return p + query;
}
