// A route's CORS policy (envoy.filters.http.cors's CorsPolicy), compiled.
import type { StringPredicate } from '../convert/matchers.js';

export interface CorsPolicyModel {
  /** An origin is allowed when one of these accepts it. */
  readonly origins: readonly StringPredicate[];
  /** Comma-separated lists as configured; "*" means whatever the preflight asks for. */
  readonly allowMethods: string;
  readonly allowHeaders: string;
  readonly exposeHeaders: string;
  /** Seconds, as configured ("" = not sent). */
  readonly maxAge: string;
  readonly allowCredentials: boolean;
  /** A preflight from an origin not allowed goes on to the upstream (Envoy's default: true). */
  readonly forwardNotMatchingPreflights: boolean;
}
