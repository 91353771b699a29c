// The JWT authentication filter's decision for one request: find the rule, extract tokens from each
// provider's locations, verify them (synchronously when the keys are held), evaluate the
// requirement. Verified payloads go to dynamic metadata under the filter's name (payload_in_metadata)
// and, as Istio's authn filter does, under "istio_authn" (request.auth.principal = iss/sub,
// request.auth.claims as lists of strings, audiences, presenter), where RBAC reads them.
import type { HeaderSource } from '../convert/matchers.js';
import { queryParams } from '../convert/matchers.js';
import type { DynamicMetadata, MetadataValue } from '../convert/metadata.js';
import { getHeader } from '../http/headers.pure.js';
import { pathOnly } from '../http/message.pure.js';
import type { JwksCache } from './jwks-cache.js';
import { parseJwks } from './jwks.pure.js';
import type { JwtAuthnConfig, JwtProviderModel, JwtRequirement } from './model.js';
import { keySet, verifyJwt, type JwtPayload, type KeySet } from './verify.js';

export const JWT_FILTER_METADATA = 'envoy.filters.http.jwt_authn';
export const ISTIO_AUTHN = 'istio_authn';

export interface JwtRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly string[];
  readonly source: HeaderSource;
}

export type JwtOutcome =
  | {
      readonly ok: true;
      /** Headers to drop (tokens not forwarded) and to set (claim_to_headers, forward_payload_header). */
      readonly remove: readonly string[];
      readonly set: readonly (readonly [string, string])[];
      readonly metadata: readonly (readonly [string, Record<string, MetadataValue>])[];
    }
  | { readonly ok: false; readonly status: 401 | 403; readonly message: string };

interface Token {
  readonly token: string;
  /** Where it came from, to remove it when not forwarded. */
  readonly header?: string;
}

type Eval =
  | { readonly ok: true }
  | { readonly ok: false; readonly missing: boolean; readonly message: string };

const localKeys = new WeakMap<JwtProviderModel, KeySet>();

export class JwtAuthenticator {
  readonly #config: JwtAuthnConfig;
  readonly #jwks: JwksCache;
  readonly #now: () => number;

  constructor(config: JwtAuthnConfig, jwks: JwksCache, now: () => number = Date.now) {
    this.#config = config;
    this.#jwks = jwks;
    this.#now = now;
  }

  authenticate(req: JwtRequest): JwtOutcome | Promise<JwtOutcome> {
    const c = this.#config;
    if (
      c.bypassCorsPreflight &&
      req.method === 'OPTIONS' &&
      getHeader(req.headers, 'origin') !== undefined
    )
      return { ok: true, remove: [], set: [], metadata: [] };
    const path = pathOnly(req.path);
    const rule = c.rules.find(
      (r) => r.match.path(path) && r.match.headers.every((h) => h(req.source)),
    );
    // Tokens present are verified even without a requirement (their claims reach metadata).
    const needed = new Map<JwtProviderModel, Token[]>();
    for (const p of c.providers.values()) {
      const tokens = extractTokens(p, req);
      if (tokens.length > 0) needed.set(p, tokens);
    }
    const keys = new Map<JwtProviderModel, KeySet | Error>();
    const pending: Promise<void>[] = [];
    for (const p of needed.keys()) {
      const k = this.#keys(p);
      if (k instanceof Promise) {
        pending.push(
          k.then(
            (v) => void keys.set(p, v),
            (err: Error) => void keys.set(p, err),
          ),
        );
      } else keys.set(p, k);
    }
    const finish = (): JwtOutcome => this.#decide(rule?.requirement, needed, keys);
    return pending.length === 0 ? finish() : Promise.all(pending).then(finish);
  }

  #keys(p: JwtProviderModel): KeySet | Error | Promise<KeySet> {
    const j = p.jwks;
    if (j.kind === 'local') {
      let k = localKeys.get(p);
      if (!k) {
        const parsed = parseJwks(j.jwks);
        k = keySet(parsed.ok ? parsed.keys : []);
        localKeys.set(p, k);
      }
      return k;
    }
    try {
      return this.#jwks.get(j.uri, j.timeoutMs, j.cacheMs);
    } catch (err) {
      return err as Error;
    }
  }

  #decide(
    requirement: JwtRequirement | undefined,
    tokens: Map<JwtProviderModel, Token[]>,
    keys: Map<JwtProviderModel, KeySet | Error>,
  ): JwtOutcome {
    const now = this.#now();
    const verified = new Map<JwtProviderModel, { payload: JwtPayload; token: Token }>();
    const failures = new Map<JwtProviderModel, string>();
    for (const [p, list] of tokens) {
      const k = keys.get(p);
      if (k === undefined || k instanceof Error) {
        failures.set(p, 'Jwks remote fetch is failed');
        continue;
      }
      for (const t of list) {
        const v = verifyJwt(t.token, p, k, now);
        if (v.ok) {
          verified.set(p, { payload: v.payload, token: t });
          break;
        }
        failures.set(p, v.error);
      }
    }
    const anyToken = tokens.size > 0;
    const evaluate = (r: JwtRequirement): Eval => {
      switch (r.kind) {
        case 'provider': {
          const p = this.#config.providers.get(r.provider)!;
          const v = verified.get(p);
          if (v) {
            if (r.audiences && r.audiences.length > 0) {
              const aud = v.payload['aud'];
              const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
              if (!list.some((a) => r.audiences!.includes(a as string)))
                return { ok: false, missing: false, message: 'Audiences in Jwt are not allowed' };
            }
            return { ok: true };
          }
          const f = failures.get(p);
          return f !== undefined
            ? { ok: false, missing: false, message: f }
            : { ok: false, missing: true, message: 'Jwt is missing' };
        }
        case 'any': {
          let firstFail: Eval | undefined;
          for (const x of r.of) {
            const e = evaluate(x);
            if (e.ok) return e;
            if (!firstFail || (!e.missing && (firstFail as { missing: boolean }).missing))
              firstFail = e;
          }
          return firstFail ?? { ok: false, missing: true, message: 'Jwt is missing' };
        }
        case 'all': {
          for (const x of r.of) {
            const e = evaluate(x);
            if (!e.ok) return e;
          }
          return { ok: true };
        }
        case 'allow-missing':
          // Satisfied when no token was presented; a presented one must verify elsewhere.
          if (!anyToken) return { ok: true };
          return {
            ok: false,
            missing: false,
            message: [...failures.values()][0] ?? 'Jwt verification fails',
          };
        case 'allow-missing-or-failed':
          return { ok: true };
      }
    };
    if (requirement) {
      const e = evaluate(requirement);
      if (!e.ok) return { ok: false, status: 401, message: e.message };
    }
    return this.#success(verified);
  }

  #success(verified: Map<JwtProviderModel, { payload: JwtPayload; token: Token }>): JwtOutcome {
    const remove: string[] = [];
    const set: [string, string][] = [];
    const filterMd: Record<string, MetadataValue> = {};
    let istio: Record<string, MetadataValue> | undefined;
    for (const [p, { payload, token }] of verified) {
      if (!p.forward && token.header) remove.push(token.header);
      if (p.payloadInMetadata !== '') filterMd[p.payloadInMetadata] = payload as MetadataValue;
      for (const c of p.claimToHeaders) {
        const v = payload[c.claim];
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
          set.push([c.header, String(v)]);
      }
      if (p.forwardPayloadHeader !== '')
        set.push([
          p.forwardPayloadHeader,
          Buffer.from(JSON.stringify(payload)).toString('base64url'),
        ]);
      istio ??= istioAuthn(payload);
    }
    const metadata: [string, Record<string, MetadataValue>][] = [];
    if (Object.keys(filterMd).length > 0) metadata.push([JWT_FILTER_METADATA, filterMd]);
    if (istio) metadata.push([ISTIO_AUTHN, istio]);
    return { ok: true, remove, set, metadata };
  }
}

/** Tokens from a provider's locations (default: Authorization Bearer, then ?access_token). */
function extractTokens(p: JwtProviderModel, req: JwtRequest): Token[] {
  const out: Token[] = [];
  const headers =
    p.fromHeaders.length === 0 && p.fromParams.length === 0 && p.fromCookies.length === 0
      ? [{ name: 'authorization', prefix: 'Bearer ' }]
      : p.fromHeaders;
  for (const h of headers) {
    const v = getHeader(req.headers, h.name);
    if (v === undefined) continue;
    if (h.prefix === '') out.push({ token: v.trim(), header: h.name });
    else if (v.toLowerCase().startsWith(h.prefix.toLowerCase()))
      out.push({ token: v.slice(h.prefix.length).trim(), header: h.name });
  }
  const params =
    p.fromHeaders.length === 0 && p.fromParams.length === 0 && p.fromCookies.length === 0
      ? ['access_token']
      : p.fromParams;
  if (params.length > 0 && req.path.includes('?')) {
    const q = queryParams(req.path);
    for (const name of params) {
      const v = q.get(name);
      if (v !== undefined && v !== '') out.push({ token: v });
    }
  }
  if (p.fromCookies.length > 0) {
    const cookie = getHeader(req.headers, 'cookie') ?? '';
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1) continue;
      if (p.fromCookies.includes(part.slice(0, eq).trim()))
        out.push({ token: part.slice(eq + 1).trim() });
    }
  }
  return out;
}

function claimValue(v: unknown): MetadataValue {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, MetadataValue> = {};
    for (const [k, x] of Object.entries(v)) out[k] = claimValue(x);
    return out;
  }
  return [typeof v === 'string' ? v : JSON.stringify(v)];
}

/** Istio's request.auth.* attributes from a verified payload. */
export function istioAuthn(payload: JwtPayload): Record<string, MetadataValue> {
  const iss = typeof payload['iss'] === 'string' ? payload['iss'] : '';
  const sub = typeof payload['sub'] === 'string' ? payload['sub'] : '';
  const aud = payload['aud'];
  const claims: Record<string, MetadataValue> = {};
  for (const [k, v] of Object.entries(payload)) claims[k] = claimValue(v);
  return {
    'request.auth.principal': `${iss}/${sub}`,
    'request.auth.audiences':
      typeof aud === 'string'
        ? [aud]
        : Array.isArray(aud)
          ? aud.filter((a): a is string => typeof a === 'string')
          : [],
    'request.auth.presenter': typeof payload['azp'] === 'string' ? payload['azp'] : '',
    'request.auth.claims': claims,
    'request.auth.raw_claims': JSON.stringify(payload),
  };
}

/** Merges filter metadata into the request's dynamic metadata. */
export function mergeMetadata(
  md: DynamicMetadata,
  entries: readonly (readonly [string, Record<string, MetadataValue>])[],
): void {
  for (const [filter, values] of entries) md.set(filter, { ...(md.get(filter) ?? {}), ...values });
}
