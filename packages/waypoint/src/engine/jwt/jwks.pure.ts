// JSON Web Key Sets (RFC 7517) as providers publish them: parsed and checked, keys of types the
// verifier supports (RSA, EC P-256/384/521, OKP Ed25519) kept. Pure.

export interface Jwk {
  readonly kty: string;
  readonly kid?: string;
  readonly alg?: string;
  readonly use?: string;
  readonly crv?: string;
  readonly [member: string]: unknown;
}

export type ParsedJwks =
  | { readonly ok: true; readonly keys: readonly Jwk[] }
  | { readonly ok: false; readonly reason: string };

const CURVES = new Set(['P-256', 'P-384', 'P-521', 'Ed25519']);

export function parseJwks(text: string): ParsedJwks {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `JWKS is not JSON: ${(err as Error).message}` };
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { keys?: unknown }).keys))
    return { ok: false, reason: 'JWKS has no "keys" array' };
  const keys: Jwk[] = [];
  for (const [i, k] of (doc as { keys: unknown[] }).keys.entries()) {
    if (typeof k !== 'object' || k === null)
      return { ok: false, reason: `keys[${i}] is not an object` };
    const key = k as Jwk;
    if (key.use !== undefined && key.use !== 'sig') continue;
    if (key.kty === 'RSA') {
      if (typeof key['n'] !== 'string' || typeof key['e'] !== 'string')
        return { ok: false, reason: `keys[${i}]: an RSA key needs "n" and "e"` };
    } else if (key.kty === 'EC' || key.kty === 'OKP') {
      if (!CURVES.has(String(key.crv)) || typeof key['x'] !== 'string')
        return { ok: false, reason: `keys[${i}]: unsupported ${key.kty} curve ${String(key.crv)}` };
      if (key.kty === 'EC' && typeof key['y'] !== 'string')
        return { ok: false, reason: `keys[${i}]: an EC key needs "y"` };
    } else {
      continue;
    }
    keys.push(key);
  }
  if (keys.length === 0) return { ok: false, reason: 'JWKS holds no usable signing key' };
  return { ok: true, keys };
}
