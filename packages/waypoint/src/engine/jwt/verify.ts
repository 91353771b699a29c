// Verifying one JWT (compact JWS) against a key set and a provider's rules: signature (RS*, PS*,
// ES*, EdDSA; never "none" or HMAC), exp/nbf with clock skew, issuer, audiences, subject, maximum
// lifetime. Failures carry Envoy's messages ("Jwt is expired", ...), which become the 401 body.
import { createPublicKey, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import type { Jwk } from './jwks.pure.js';
import type { JwtProviderModel } from './model.js';

export type JwtPayload = Readonly<Record<string, unknown>>;

export type Verified =
  | { readonly ok: true; readonly payload: JwtPayload }
  | { readonly ok: false; readonly error: string };

export interface KeySet {
  readonly keys: readonly { readonly jwk: Jwk; readonly key: KeyObject }[];
}

/** Imports the keys once; a key node:crypto refuses is skipped. */
export function keySet(jwks: readonly Jwk[]): KeySet {
  const keys: { jwk: Jwk; key: KeyObject }[] = [];
  for (const jwk of jwks) {
    try {
      keys.push({
        jwk,
        key: createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }),
      });
    } catch {
      // unusable key: ignored, as Envoy does
    }
  }
  return { keys };
}

const ALGS: Record<string, { hash: string | null; kty: string; pss?: boolean; crv?: string }> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true },
  PS384: { hash: 'sha384', kty: 'RSA', pss: true },
  PS512: { hash: 'sha512', kty: 'RSA', pss: true },
  ES256: { hash: 'sha256', kty: 'EC', crv: 'P-256' },
  ES384: { hash: 'sha384', kty: 'EC', crv: 'P-384' },
  ES512: { hash: 'sha512', kty: 'EC', crv: 'P-521' },
  EdDSA: { hash: null, kty: 'OKP' },
};

function decodePart(part: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Splits and decodes a token without checking it (issuer routing, metadata). */
export function decodeJwt(token: string):
  | {
      header: Record<string, unknown>;
      payload: Record<string, unknown>;
      signed: string;
      signature: Buffer;
    }
  | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  const header = decodePart(parts[0]!);
  const payload = decodePart(parts[1]!);
  if (!header || !payload) return undefined;
  return {
    header,
    payload,
    signed: `${parts[0]}.${parts[1]}`,
    signature: Buffer.from(parts[2]!, 'base64url'),
  };
}

export function verifyJwt(
  token: string,
  provider: JwtProviderModel,
  keys: KeySet,
  nowMs: number,
  audiences: readonly string[] = provider.audiences,
): Verified {
  const jwt = decodeJwt(token);
  if (!jwt)
    return {
      ok: false,
      error: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
    };
  const { header, payload } = jwt;
  const alg = typeof header['alg'] === 'string' ? header['alg'] : '';
  const spec = ALGS[alg];
  if (!spec)
    return { ok: false, error: `Jwt algorithm ${alg === '' ? '(none)' : alg} is not supported` };
  const iss = payload['iss'];
  if (provider.issuer !== '' && iss !== provider.issuer)
    return { ok: false, error: 'Jwt issuer is not configured' };
  // Time checks (Envoy checks them before the signature).
  const now = nowMs / 1000;
  const skew = provider.clockSkewSeconds;
  const exp = payload['exp'];
  const nbf = payload['nbf'];
  const iat = payload['iat'];
  if (exp !== undefined && typeof exp !== 'number')
    return { ok: false, error: 'Jwt verification fails' };
  if (nbf !== undefined && typeof nbf !== 'number')
    return { ok: false, error: 'Jwt verification fails' };
  if (typeof nbf === 'number' && now + skew < nbf) return { ok: false, error: 'Jwt not yet valid' };
  if (typeof exp === 'number' && now - skew >= exp) return { ok: false, error: 'Jwt is expired' };
  if (exp === undefined && (provider.requireExpiration || provider.maxLifetimeMs !== undefined))
    return { ok: false, error: 'Jwt has no expiration' };
  if (provider.maxLifetimeMs !== undefined) {
    if (typeof iat !== 'number' || (exp as number) - iat > provider.maxLifetimeMs / 1000)
      return { ok: false, error: 'Jwt lifetime is longer than allowed' };
  }
  if (audiences.length > 0) {
    const aud = payload['aud'];
    const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!list.some((a) => typeof a === 'string' && audiences.includes(a)))
      return { ok: false, error: 'Audiences in Jwt are not allowed' };
  }
  if (provider.subjects) {
    const sub = payload['sub'];
    if (typeof sub !== 'string' || !provider.subjects(sub))
      return { ok: false, error: 'Jwt subject is not allowed' };
  }
  const kid = typeof header['kid'] === 'string' ? header['kid'] : undefined;
  const data = Buffer.from(jwt.signed, 'latin1');
  let candidates = 0;
  for (const { jwk, key } of keys.keys) {
    if (jwk.kty !== spec.kty) continue;
    if (kid !== undefined && jwk.kid !== undefined && jwk.kid !== kid) continue;
    if (jwk.alg !== undefined && jwk.alg !== alg) continue;
    if (spec.crv !== undefined && jwk.crv !== spec.crv) continue;
    candidates++;
    let ok: boolean;
    try {
      ok = cryptoVerify(
        spec.hash,
        data,
        spec.kty === 'EC'
          ? { key, dsaEncoding: 'ieee-p1363' }
          : spec.pss
            ? {
                key,
                padding: constants.RSA_PKCS1_PSS_PADDING,
                saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
              }
            : key,
        jwt.signature,
      );
    } catch {
      ok = false;
    }
    if (ok) return { ok: true, payload };
  }
  return {
    ok: false,
    error:
      candidates === 0
        ? "Jwks doesn't have key to match kid or alg from Jwt"
        : 'Jwt verification fails',
  };
}
