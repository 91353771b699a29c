// JwtAuthentication -> JwtAuthnConfig. Local JWKS must parse here (a broken inline key set is a
// NACK, not a 401 at request time); remote JWKS are fetched by the filter. Pure.
import type {
  JwtAuthentication,
  JwtProvider,
  JwtRequirement as XdsRequirement,
} from '@trellis/api/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { durationMs, headerName, invalid } from '../convert/common.js';
import { stringMatcher } from '../convert/matchers.js';
import { routeMatch } from '../convert/route.js';
import type { JwtAuthnConfig, JwtProviderModel, JwtRequirement, JwtRule } from './model.js';
import { parseJwks } from './jwks.pure.js';

/** Envoy's default JWKS cache duration. */
export const DEFAULT_JWKS_CACHE_MS = 10 * 60_000;
const DEFAULT_JWKS_TIMEOUT_MS = 1_000;

export function jwtAuthnConfig(c: JwtAuthentication, field: string): JwtAuthnConfig {
  if (c.filterStateRules) invalid(`${field}.filter_state_rules`, 'not supported');
  const providers = new Map<string, JwtProviderModel>();
  for (const name of Object.keys(c.providers).sort()) {
    providers.set(name, provider(name, c.providers[name]!, `${field}.providers[${name}]`));
  }
  const named = new Map<string, JwtRequirement>();
  for (const [name, r] of Object.entries(c.requirementMap)) {
    named.set(name, requirement(r, `${field}.requirement_map[${name}]`, providers));
  }
  const rules: JwtRule[] = c.rules.map((r, i) => {
    const f = `${field}.rules[${i}]`;
    if (!r.match) invalid(`${f}.match`, 'is missing');
    const { matcher } = routeMatch(r.match, `${f}.match`);
    const t = r.requirementType;
    let req: JwtRequirement | undefined;
    if (t.case === 'requires') req = requirement(t.value, `${f}.requires`, providers);
    else if (t.case === 'requirementName') {
      req = named.get(t.value);
      if (!req) invalid(`${f}.requirement_name`, `no requirement "${t.value}" in requirement_map`);
    }
    return { match: matcher, ...(req ? { requirement: req } : {}) };
  });
  return { providers, rules, bypassCorsPreflight: c.bypassCorsPreflight };
}

function provider(name: string, p: JwtProvider, field: string): JwtProviderModel {
  const s = p.jwksSourceSpecifier;
  let jwks: JwtProviderModel['jwks'];
  if (s.case === 'localJwks') {
    const src = s.value.specifier;
    let text: string;
    if (src.case === 'inlineString') text = src.value;
    else if (src.case === 'inlineBytes') text = Buffer.from(src.value).toString('utf8');
    else
      invalid(
        `${field}.local_jwks`,
        `${String(src.case ?? '(none)')} is not supported (inline only)`,
      );
    const parsed = parseJwks(text);
    if (!parsed.ok) invalid(`${field}.local_jwks`, parsed.reason);
    jwks = { kind: 'local', jwks: text };
  } else if (s.case === 'remoteJwks') {
    const uri = s.value.httpUri?.uri ?? '';
    if (!/^https?:\/\/[^/]+/.test(uri))
      invalid(`${field}.remote_jwks.http_uri.uri`, `"${uri}" is not an http(s) URL`);
    jwks = {
      kind: 'remote',
      uri,
      timeoutMs:
        durationMs(s.value.httpUri?.timeout, `${field}.remote_jwks.http_uri.timeout`) ??
        DEFAULT_JWKS_TIMEOUT_MS,
      cacheMs:
        durationMs(s.value.cacheDuration, `${field}.remote_jwks.cache_duration`) ??
        DEFAULT_JWKS_CACHE_MS,
    };
  } else {
    invalid(field, 'local_jwks or remote_jwks is required');
  }
  if (p.headerInMetadata !== '') invalid(`${field}.header_in_metadata`, 'not supported');
  if (p.normalizePayloadInMetadata)
    invalid(`${field}.normalize_payload_in_metadata`, 'not supported');
  const maxLifetime = durationMs(p.maxLifetime, `${field}.max_lifetime`);
  return {
    name,
    issuer: p.issuer,
    audiences: [...p.audiences],
    ...(p.subjects ? { subjects: stringMatcher(p.subjects, `${field}.subjects`) } : {}),
    requireExpiration: p.requireExpiration,
    ...(maxLifetime !== undefined ? { maxLifetimeMs: maxLifetime } : {}),
    jwks,
    forward: p.forward,
    fromHeaders: p.fromHeaders.map((h, i) => ({
      name: headerName(h.name, `${field}.from_headers[${i}].name`),
      prefix: h.valuePrefix,
    })),
    fromParams: [...p.fromParams],
    fromCookies: [...p.fromCookies],
    payloadInMetadata: p.payloadInMetadata,
    clockSkewSeconds: p.clockSkewSeconds === 0 ? 60 : p.clockSkewSeconds,
    claimToHeaders: p.claimToHeaders.map((c, i) => ({
      header: headerName(c.headerName, `${field}.claim_to_headers[${i}].header_name`),
      claim: c.claimName,
    })),
    forwardPayloadHeader:
      p.forwardPayloadHeader === ''
        ? ''
        : headerName(p.forwardPayloadHeader, `${field}.forward_payload_header`),
  };
}

function requirement(
  r: XdsRequirement,
  field: string,
  providers: ReadonlyMap<string, JwtProviderModel>,
): JwtRequirement {
  const t = r.requiresType;
  const known = (name: string, f: string): string => {
    if (!providers.has(name)) invalid(f, `unknown provider "${name}"`);
    return name;
  };
  switch (t.case) {
    case 'providerName':
      return { kind: 'provider', provider: known(t.value, `${field}.provider_name`) };
    case 'providerAndAudiences':
      return {
        kind: 'provider',
        provider: known(t.value.providerName, `${field}.provider_and_audiences.provider_name`),
        audiences: [...t.value.audiences],
      };
    case 'requiresAny':
      return {
        kind: 'any',
        of: t.value.requirements.map((x, i) =>
          requirement(x, `${field}.requires_any.requirements[${i}]`, providers),
        ),
      };
    case 'requiresAll':
      return {
        kind: 'all',
        of: t.value.requirements.map((x, i) =>
          requirement(x, `${field}.requires_all.requirements[${i}]`, providers),
        ),
      };
    case 'allowMissing':
      return { kind: 'allow-missing' };
    case 'allowMissingOrFailed':
      return { kind: 'allow-missing-or-failed' };
    default:
      invalid(field, 'empty requirement');
  }
}
