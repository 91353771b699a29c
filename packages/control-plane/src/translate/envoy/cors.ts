// The HTTPRoute `CORS` filter (HTTPRouteCORS) -> Envoy's CorsPolicy in the route's
// typed_per_filter_config for envoy.filters.http.cors; the chain then carries that filter. Pure.
import { create } from '@bufbuild/protobuf';
import { packAny } from '@trellis/api';
import type { HttpFilter } from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { RouteConfiguration } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import {
  CorsPolicySchema,
  CorsSchema,
  type CorsPolicy,
} from '@trellis/api/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import {
  StringMatcherSchema,
  type StringMatcher,
} from '@trellis/api/gen/envoy/type/matcher/v3/string_pb.js';
import { RegexMatcherSchema } from '@trellis/api/gen/envoy/type/matcher/v3/regex_pb.js';
import type { HTTPCORSFilter } from '../../model/gateway-api.js';
import { perRouteFilter, routesConfigure } from './listeners.js';
import { escapeRegex } from './route-match.js';

export const CORS_FILTER = 'envoy.filters.http.cors';

/** Gateway API's default `maxAge` (seconds), applied when the object does not carry one. */
const DEFAULT_MAX_AGE = 5;

// scheme://host[:port], host possibly "*." followed by a name (the CRD's own pattern, checked again
// here since a cluster may run with validation off).
const ORIGIN = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(\*\.)?([a-zA-Z0-9.-]+)(:[0-9]{1,5})?$/;

/** A CORS filter -> CorsPolicy; a string says what is wrong with it. */
export function corsPolicy(f: HTTPCORSFilter): CorsPolicy | string {
  const origins: StringMatcher[] = [];
  for (const o of f.allowOrigins) {
    const m = originMatcher(o);
    if (typeof m === 'string') return m;
    origins.push(m);
  }
  const maxAge = f.maxAge ?? DEFAULT_MAX_AGE;
  if (!(Number.isInteger(maxAge) && maxAge >= 0)) return `maxAge ${maxAge} must be seconds >= 0`;
  for (const [field, names] of [
    ['allowMethods', f.allowMethods],
    ['allowHeaders', f.allowHeaders],
    ['exposeHeaders', f.exposeHeaders],
  ] as const)
    if (names.some((n) => !/^(\*|[!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.test(n)))
      return `${field} lists tokens (a method or header name) or "*"`;
  return create(CorsPolicySchema, {
    allowOriginStringMatch: origins,
    allowMethods: f.allowMethods.join(', '),
    allowHeaders: f.allowHeaders.join(', '),
    exposeHeaders: f.exposeHeaders.join(', '),
    maxAge: String(maxAge),
    // A preflight is the gateway's to answer: one from an origin not allowed is answered here too
    // (without CORS headers), never passed to the backend (the conformance suite checks this).
    forwardNotMatchingPreflights: false,
    ...(f.allowCredentials ? { allowCredentials: true } : {}),
  });
}

/** "*": any origin; "https://*.foo.com": any name ending in ".foo.com"; else the exact origin. */
function originMatcher(o: string): StringMatcher | string {
  if (o === '*') return regex('.+');
  const m = ORIGIN.exec(o);
  if (!m) return `allowOrigins entry "${o}" is not "*" or scheme://host[:port]`;
  if (m[4] !== undefined && Number(m[4].slice(1)) > 65535)
    return `allowOrigins entry "${o}" has an invalid port`;
  if (!m[2])
    return create(StringMatcherSchema, {
      matchPattern: { case: 'exact', value: o },
      ignoreCase: true,
    });
  const [, scheme, , host, port] = m;
  return regex(`${escapeRegex(`${scheme}://`)}[^/:]+${escapeRegex(`.${host}${port ?? ''}`)}`);
}

function regex(pattern: string): StringMatcher {
  return create(StringMatcherSchema, {
    matchPattern: { case: 'safeRegex', value: create(RegexMatcherSchema, { regex: pattern }) },
    ignoreCase: true,
  });
}

/** The route's typed_per_filter_config entry for `policy`. */
export function corsPerRoute(policy: CorsPolicy) {
  return packAny(CorsPolicySchema, policy);
}

/** Whether a route of `config` carries a CORS policy (its chain then needs the CORS filter). */
export function usesCors(config: RouteConfiguration): boolean {
  return routesConfigure(config, CORS_FILTER);
}

/** The chain's CORS filter: empty, each route's CorsPolicy says what to allow. */
export function corsFilter(): HttpFilter {
  return perRouteFilter(CORS_FILTER, CorsSchema);
}
