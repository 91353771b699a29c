// envoy.filters.http.jwt_authn at request time: a failed requirement answers 401 with Envoy's
// message and a WWW-Authenticate challenge; success strips tokens not forwarded, sets claim
// headers and writes the payload into dynamic metadata (and istio_authn) for RBAC.
import { removeHeader, setHeader } from '../http/headers.pure.js';
import { headerSource } from '../convert/matchers.js';
import { JwtAuthenticator, mergeMetadata, type JwtOutcome } from '../jwt/authenticate.js';
import type { JwksCache } from '../jwt/jwks-cache.js';
import type { HttpFilterModel } from '../model/listener.js';
import type { FilterResult, HttpFilterRuntime, LocalReply } from '../proxy/context.js';
import type { Exchange } from '../proxy/exchange.js';

type JwtModel = Extract<HttpFilterModel, { kind: 'jwt' }>;

export function jwtFilter(m: JwtModel, jwks: JwksCache): HttpFilterRuntime {
  const auth = new JwtAuthenticator(m.jwt, jwks);
  const apply = (ex: Exchange, o: JwtOutcome): LocalReply | undefined => {
    if (!o.ok) {
      const r = ex.request;
      return {
        status: o.status,
        body: o.message,
        headers: [
          'www-authenticate',
          `Bearer realm="${r.scheme}://${r.authority}${ex.urlPath}", error="invalid_token"`,
        ],
        flag: '-',
        details: `jwt_authn_access_denied{${o.message}}`,
      };
    }
    const h = ex.request.headers;
    for (const name of o.remove) removeHeader(h, name);
    for (const [name, value] of o.set) setHeader(h, name, value);
    mergeMetadata(ex.metadata, o.metadata);
    return undefined;
  };
  return {
    name: m.name,
    disabledByDefault: m.disabled,
    decode(ex: Exchange): FilterResult {
      const r = ex.request;
      const o = auth.authenticate({
        method: r.method,
        path: r.path,
        headers: r.headers,
        source: headerSource(r.headers, {
          method: r.method,
          path: r.path,
          authority: r.authority,
          scheme: r.scheme,
        }),
      });
      return o instanceof Promise ? o.then((x) => apply(ex, x)) : apply(ex, o);
    },
  };
}
