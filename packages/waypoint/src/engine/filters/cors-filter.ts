// envoy.filters.http.cors at request time, with the route's (else the virtual host's) CorsPolicy.
// A request with an Origin the policy allows: a preflight (OPTIONS with
// Access-Control-Request-Method) is answered here, 200 with the Access-Control-* headers; any other
// request goes on and its response gets Access-Control-Allow-Origin (the request's origin),
// -Allow-Credentials and -Expose-Headers. An origin not allowed gets no CORS header (its preflight
// goes upstream unless forward_not_matching_preflights is false, then 200 without them).
// "*" in allow_methods / allow_headers answers with what the preflight asked for, which is also
// right with credentials (where the Fetch standard reads "*" literally).
import { getHeader, getHeaderJoined, type HeaderList } from '../http/headers.pure.js';
import type { CorsPolicyModel } from '../model/cors.js';
import type { FilterResult, HttpFilterRuntime } from '../proxy/context.js';
import type { Exchange } from '../proxy/exchange.js';

export function corsFilter(m: { name: string; disabled: boolean }): HttpFilterRuntime {
  return {
    name: m.name,
    disabledByDefault: m.disabled,
    decode(ex: Exchange): FilterResult {
      const policy = ex.route?.perFilter.cors ?? ex.vhost?.perFilter.cors;
      if (!policy) return undefined;
      const r = ex.request;
      const origin = getHeader(r.headers, 'origin');
      if (origin === undefined) return undefined;
      const allowed = policy.origins.some((o) => o(origin));
      const requestMethod = getHeader(r.headers, 'access-control-request-method');
      if (r.method === 'OPTIONS' && requestMethod !== undefined) {
        if (allowed) return preflightReply(policy, origin, requestMethod, r.headers);
        if (policy.forwardNotMatchingPreflights) return undefined;
        return { status: 200, body: '', details: 'cors_preflight_origin_not_allowed' };
      }
      if (allowed) ex.filterResponseHeaders.push(...simpleHeaders(policy, origin));
      return undefined;
    },
  };
}

/** The Access-Control-* headers answering an allowed preflight. */
export function preflightHeaders(
  p: CorsPolicyModel,
  origin: string,
  requestMethod: string,
  requestHeaders: string | undefined,
): HeaderList {
  const h: HeaderList = ['access-control-allow-origin', origin];
  if (p.allowCredentials) h.push('access-control-allow-credentials', 'true');
  const methods = p.allowMethods === '*' ? requestMethod : p.allowMethods;
  if (methods !== '') h.push('access-control-allow-methods', methods);
  const headers = p.allowHeaders === '*' ? (requestHeaders ?? '') : p.allowHeaders;
  if (headers !== '') h.push('access-control-allow-headers', headers);
  if (p.exposeHeaders !== '') h.push('access-control-expose-headers', p.exposeHeaders);
  if (p.maxAge !== '') h.push('access-control-max-age', p.maxAge);
  return h;
}

/** What the response to an allowed non-preflight request gets. */
export function simpleHeaders(p: CorsPolicyModel, origin: string): HeaderList {
  const h: HeaderList = ['access-control-allow-origin', origin];
  if (p.allowCredentials) h.push('access-control-allow-credentials', 'true');
  if (p.exposeHeaders !== '') h.push('access-control-expose-headers', p.exposeHeaders);
  return h;
}

function preflightReply(
  p: CorsPolicyModel,
  origin: string,
  requestMethod: string,
  headers: HeaderList,
) {
  return {
    status: 200,
    body: '',
    headers: preflightHeaders(
      p,
      origin,
      requestMethod,
      getHeaderJoined(headers, 'access-control-request-headers'),
    ),
    details: 'cors_preflight',
  };
}
