// Signing test JWTs (ES256) and publishing their JWKS, for JWT tests.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

export interface TestIssuer {
  readonly issuer: string;
  readonly jwks: string;
  token(claims: Record<string, unknown>, o?: { expiresIn?: number; kid?: string }): string;
}

export function testIssuer(issuer: string, kid = 'k1'): TestIssuer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const jwks = JSON.stringify({ keys: [{ ...jwk, kid, alg: 'ES256', use: 'sig' }] });
  return {
    issuer,
    jwks,
    token: (claims, o = {}) =>
      signJwt(privateKey, { iss: issuer, ...claims }, o.kid ?? kid, o.expiresIn ?? 3600),
  };
}

function signJwt(
  key: KeyObject,
  claims: Record<string, unknown>,
  kid: string,
  expiresIn: number,
): string {
  const now = Math.floor(Date.now() / 1000);
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid })).toString(
    'base64url',
  );
  const payload = Buffer.from(
    JSON.stringify({ iat: now, exp: now + expiresIn, ...claims }),
  ).toString('base64url');
  const sig = sign('sha256', Buffer.from(`${header}.${payload}`), {
    key,
    dsaEncoding: 'ieee-p1363',
  });
  return `${header}.${payload}.${sig.toString('base64url')}`;
}
