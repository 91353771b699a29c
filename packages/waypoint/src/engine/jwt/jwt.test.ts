// JWT verification and requirements: signature algorithms (never none or HMAC), exp/nbf with
// skew, issuer, audiences, kid selection; requirement logic (provider, any with allow_missing,
// all); tokens from headers, parameters and cookies; istio_authn attributes.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import { headerSource } from '../convert/matchers.js';
import { testIssuer } from '../../test-support/jwt.js';
import { JwtAuthenticator, istioAuthn } from './authenticate.js';
import { JwksCache } from './jwks-cache.js';
import { parseJwks } from './jwks.pure.js';
import type { JwtAuthnConfig, JwtProviderModel, JwtRequirement } from './model.js';
import { keySet, verifyJwt } from './verify.js';

const sso = testIssuer('https://sso.example.com');
function provider(o: Partial<JwtProviderModel> = {}): JwtProviderModel {
  return {
    name: 'sso',
    issuer: sso.issuer,
    audiences: [],
    requireExpiration: false,
    jwks: { kind: 'local', jwks: sso.jwks },
    forward: false,
    fromHeaders: [],
    fromParams: [],
    fromCookies: [],
    payloadInMetadata: '',
    clockSkewSeconds: 60,
    claimToHeaders: [],
    forwardPayloadHeader: '',
    ...o,
  };
}
const keys = () => {
  const p = parseJwks(sso.jwks);
  assert.ok(p.ok);
  return keySet(p.keys);
};

test('verification: good token; expired beyond the skew; not yet valid; wrong issuer, audience, key', () => {
  const now = Date.now();
  assert.equal(verifyJwt(sso.token({ sub: 'a' }), provider(), keys(), now).ok, true);
  assert.equal(
    verifyJwt(sso.token({ sub: 'a' }, { expiresIn: -30 }), provider(), keys(), now).ok,
    true,
    'within the 60 s skew',
  );
  assert.deepEqual(
    verifyJwt(sso.token({ sub: 'a' }, { expiresIn: -120 }), provider(), keys(), now),
    { ok: false, error: 'Jwt is expired' },
  );
  assert.deepEqual(
    verifyJwt(sso.token({ nbf: Math.floor(now / 1000) + 600 }), provider(), keys(), now),
    { ok: false, error: 'Jwt not yet valid' },
  );
  assert.deepEqual(verifyJwt(testIssuer('https://evil').token({}), provider(), keys(), now), {
    ok: false,
    error: 'Jwt issuer is not configured',
  });
  assert.deepEqual(
    verifyJwt(sso.token({ aud: ['x', 'y'] }), provider({ audiences: ['z'] }), keys(), now),
    { ok: false, error: 'Audiences in Jwt are not allowed' },
  );
  assert.equal(
    verifyJwt(sso.token({ aud: ['x', 'y'] }), provider({ audiences: ['y'] }), keys(), now).ok,
    true,
  );
  assert.deepEqual(verifyJwt(sso.token({}, { kid: 'other' }), provider(), keys(), now), {
    ok: false,
    error: "Jwks doesn't have key to match kid or alg from Jwt",
  });
  assert.deepEqual(verifyJwt(testIssuer(sso.issuer).token({}), provider(), keys(), now), {
    ok: false,
    error: 'Jwt verification fails',
  });
  assert.deepEqual(verifyJwt('a.b', provider(), keys(), now).ok, false);
});

test('alg "none" and HMAC are never accepted', () => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const none = `${b64({ alg: 'none' })}.${b64({ iss: sso.issuer })}.`;
  assert.deepEqual(verifyJwt(none, provider(), keys(), Date.now()), {
    ok: false,
    error: 'Jwt algorithm none is not supported',
  });
  const hs = `${b64({ alg: 'HS256' })}.${b64({ iss: sso.issuer })}.${Buffer.from('x').toString('base64url')}`;
  assert.match(
    (verifyJwt(hs, provider(), keys(), Date.now()) as { error: string }).error,
    /HS256 is not supported/,
  );
  // RS256 works too.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'r1' };
  const h = b64({ alg: 'RS256', kid: 'r1' });
  const p = b64({ iss: sso.issuer, exp: Math.floor(Date.now() / 1000) + 60 });
  const tok = `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), privateKey).toString('base64url')}`;
  const parsed = parseJwks(JSON.stringify({ keys: [jwk] }));
  assert.ok(parsed.ok);
  assert.equal(verifyJwt(tok, provider(), keySet(parsed.keys), Date.now()).ok, true);
});

function authn(
  requirement: JwtRequirement | undefined,
  providers: JwtProviderModel[] = [provider()],
) {
  const cfg: JwtAuthnConfig = {
    providers: new Map(providers.map((p) => [p.name, p])),
    rules: [
      {
        match: {
          path: () => true,
          headers: [],
          query: [],
          metadata: [],
          grpc: false,
          describe: 'prefix /',
        },
        ...(requirement ? { requirement } : {}),
      },
    ],
    bypassCorsPreflight: false,
  };
  const a = new JwtAuthenticator(cfg, new JwksCache());
  return (headers: string[], path = '/') => {
    const r = a.authenticate({
      method: 'GET',
      path,
      headers,
      source: headerSource(headers, { method: 'GET', path, authority: 'a', scheme: 'http' }),
    });
    assert.ok(!(r instanceof Promise));
    return r;
  };
}

test("requirements: provider, any-with-allow_missing (Istio's shape), all, allow_missing_or_failed", () => {
  const bearer = (t: string) => ['authorization', `Bearer ${t}`];
  const good = sso.token({ sub: 'alice', groups: ['a', 'b'], aud: 'api' });
  const one = authn({ kind: 'provider', provider: 'sso' });
  assert.equal(one(bearer(good)).ok, true);
  assert.deepEqual(one([]), { ok: false, status: 401, message: 'Jwt is missing' });
  const istio = authn({
    kind: 'any',
    of: [{ kind: 'provider', provider: 'sso' }, { kind: 'allow-missing' }],
  });
  assert.equal(istio([]).ok, true, 'no token is fine (a policy may still require one)');
  assert.deepEqual(istio(bearer(sso.token({}, { expiresIn: -600 }))), {
    ok: false,
    status: 401,
    message: 'Jwt is expired',
  });
  assert.equal(authn({ kind: 'allow-missing-or-failed' })(bearer('garbage')).ok, true);
  const r = one(bearer(good));
  assert.ok(r.ok);
  assert.deepEqual(r.remove, ['authorization'], 'not forwarded by default');
  const md = Object.fromEntries(r.metadata);
  assert.equal(md['istio_authn']!['request.auth.principal'], 'https://sso.example.com/alice');
  assert.deepEqual(
    (md['istio_authn']!['request.auth.claims'] as Record<string, unknown>)['groups'],
    ['a', 'b'],
  );
  assert.deepEqual(md['istio_authn']!['request.auth.audiences'], ['api']);
});

test('token locations: custom header with prefix, query parameter, cookie', () => {
  const p = provider({
    fromHeaders: [{ name: 'x-jwt', prefix: 'Token ' }],
    fromParams: ['jwt'],
    fromCookies: ['session'],
    forward: true,
  });
  const check = authn({ kind: 'provider', provider: 'sso' }, [p]);
  const t = sso.token({ sub: 's' });
  assert.equal(check(['x-jwt', `Token ${t}`]).ok, true);
  assert.equal(check([], `/x?jwt=${t}`).ok, true);
  assert.equal(check(['cookie', `a=1; session=${t}`]).ok, true);
  assert.equal(
    check(['authorization', `Bearer ${t}`]).ok,
    false,
    'the default location is replaced',
  );
  const fwd = check(['x-jwt', `Token ${t}`]);
  assert.ok(fwd.ok);
  assert.deepEqual(fwd.remove, [], 'forward keeps the token');
});

test('istio_authn attributes from a payload', () => {
  const a = istioAuthn({ iss: 'i', sub: 's', azp: 'web', aud: ['x'], n: 3, nested: { role: 'r' } });
  assert.equal(a['request.auth.principal'], 'i/s');
  assert.equal(a['request.auth.presenter'], 'web');
  assert.deepEqual((a['request.auth.claims'] as Record<string, unknown>)['n'], ['3']);
  assert.deepEqual(
    (a['request.auth.claims'] as Record<string, Record<string, unknown>>)['nested']!['role'],
    ['r'],
  );
});
