// The JWT authentication model (envoy.filters.http.jwt_authn JwtAuthentication) as the filter
// evaluates it.
import type { StringPredicate } from '../convert/matchers.js';
import type { RouteMatcher } from '../model/route.js';

export type JwksSource =
  | { readonly kind: 'local'; readonly jwks: string }
  | {
      readonly kind: 'remote';
      readonly uri: string;
      readonly timeoutMs: number;
      readonly cacheMs: number;
    };

export interface JwtProviderModel {
  readonly name: string;
  /** Empty: any issuer. */
  readonly issuer: string;
  /** Empty: any audience. */
  readonly audiences: readonly string[];
  readonly subjects?: StringPredicate;
  readonly requireExpiration: boolean;
  readonly maxLifetimeMs?: number;
  readonly jwks: JwksSource;
  /** Keep the token in the forwarded request. */
  readonly forward: boolean;
  /** Where tokens are read; both empty = Authorization: Bearer and ?access_token. */
  readonly fromHeaders: readonly { readonly name: string; readonly prefix: string }[];
  readonly fromParams: readonly string[];
  readonly fromCookies: readonly string[];
  readonly payloadInMetadata: string;
  readonly clockSkewSeconds: number;
  readonly claimToHeaders: readonly { readonly header: string; readonly claim: string }[];
  readonly forwardPayloadHeader: string;
}

export type JwtRequirement =
  | { readonly kind: 'provider'; readonly provider: string; readonly audiences?: readonly string[] }
  | { readonly kind: 'any'; readonly of: readonly JwtRequirement[] }
  | { readonly kind: 'all'; readonly of: readonly JwtRequirement[] }
  | { readonly kind: 'allow-missing' }
  | { readonly kind: 'allow-missing-or-failed' };

export interface JwtRule {
  readonly match: RouteMatcher;
  readonly requirement?: JwtRequirement;
}

export interface JwtAuthnConfig {
  readonly providers: ReadonlyMap<string, JwtProviderModel>;
  readonly rules: readonly JwtRule[];
  readonly bypassCorsPreflight: boolean;
}
