// Path rewrites and redirect locations, as Envoy computes them. Pure.
import type { ForwardAction, RedirectAction, Route } from '../model/route.js';
import { stripPort } from './select.js';

function splitQuery(path: string): [string, string] {
  const q = path.indexOf('?');
  return q === -1 ? [path, ''] : [path.slice(0, q), path.slice(q)];
}

/** Replaces the matched prefix (prefix_rewrite) or applies regex_rewrite to the path part. */
function rewritten(
  path: string,
  route: Route,
  prefixRewrite: string | undefined,
  regex: { pattern: RegExp; substitution: string } | undefined,
): string {
  const [p, query] = splitQuery(path);
  if (regex) {
    regex.pattern.lastIndex = 0;
    return p.replace(regex.pattern, regex.substitution) + query;
  }
  if (prefixRewrite !== undefined && route.matchedPrefix !== undefined) {
    const matched = route.matchedPrefix;
    const rest = p.length >= matched.length ? p.slice(matched.length) : '';
    return prefixRewrite + rest + query;
  }
  return path;
}

/** The path sent upstream for a forwarded request. */
export function upstreamPath(path: string, route: Route, action: ForwardAction): string {
  if (action.prefixRewrite === undefined && !action.regexRewrite) return path;
  const out = rewritten(path, route, action.prefixRewrite, action.regexRewrite);
  return out === '' || out.startsWith('?') ? `/${out}` : out;
}

/**
 * The Location of a redirect. The port is kept from the request unless the scheme changes to its
 * default port, or port_redirect says otherwise (Envoy drops :80 for http and :443 for https).
 */
export function redirectLocation(
  r: RedirectAction,
  route: Route,
  req: { scheme: string; authority: string; path: string },
): string {
  const scheme = r.scheme ?? req.scheme;
  const authority = req.authority;
  const reqHost = stripPort(authority);
  const reqPort = authority.length > reqHost.length ? authority.slice(reqHost.length + 1) : '';
  const host = r.host !== undefined ? stripPort(r.host) : reqHost;
  let port: string;
  if (r.port !== undefined) port = String(r.port);
  else if (r.host !== undefined && r.host !== host) port = r.host.slice(host.length + 1);
  else if (r.scheme !== undefined && r.scheme !== req.scheme) port = '';
  else port = reqPort;
  if ((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443')) port = '';
  let path: string;
  if (r.path !== undefined) {
    // path_redirect replaces the path and the query, unless it has none and the request has one.
    const [, query] = splitQuery(req.path);
    path = r.path.includes('?') || r.stripQuery ? r.path : r.path + query;
  } else {
    path = rewritten(req.path, route, r.prefixRewrite, r.regexRewrite);
    if (path === '' || path.startsWith('?')) path = `/${path}`;
  }
  if (r.stripQuery) path = splitQuery(path)[0];
  return `${scheme}://${host}${port !== '' ? `:${port}` : ''}${path}`;
}
