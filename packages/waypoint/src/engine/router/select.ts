// Route selection: the virtual host for an authority, then the first route whose matcher accepts
// the request, then a weighted target. Pure: randomness comes in as a function.
import { getHeader, getHeaderJoined } from '../http/headers.pure.js';
import { pathOnly } from '../http/message.pure.js';
import { queryParams, type HeaderSource } from '../convert/matchers.js';
import type { DynamicMetadata } from '../convert/metadata.js';
import type {
  ForwardAction,
  Route,
  RouteTable,
  VirtualHost,
  WeightedTarget,
} from '../model/route.js';

export interface RoutableRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: string;
  readonly headers: readonly string[];
  readonly metadata: DynamicMetadata;
}

/** Envoy's virtual host selection; the port is ignored when no domain matched with it. */
export function selectVirtualHost(table: RouteTable, authority: string): VirtualHost | undefined {
  const host = authority.toLowerCase();
  const withoutPort = stripPort(host);
  if (table.ignorePortInHostMatching) return lookup(table, withoutPort);
  return lookup(table, host) ?? (withoutPort !== host ? lookup(table, withoutPort) : undefined);
}

function lookup(table: RouteTable, host: string): VirtualHost | undefined {
  const idx = table.hosts;
  const exact = idx.exact.get(host);
  if (exact) return exact;
  for (const [suffix, vh] of idx.suffixes) {
    if (host.length > suffix.length && host.endsWith(suffix)) return vh;
  }
  for (const [prefix, vh] of idx.prefixes) {
    if (host.length > prefix.length && host.startsWith(prefix)) return vh;
  }
  return idx.any;
}

/** "host:port" -> "host"; "[v6]:port" -> "[v6]"; anything else unchanged. */
export function stripPort(authority: string): string {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close === -1 ? authority : authority.slice(0, close + 1);
  }
  const colon = authority.lastIndexOf(':');
  if (colon === -1 || authority.indexOf(':') !== colon) return authority;
  return /^\d+$/.test(authority.slice(colon + 1)) ? authority.slice(0, colon) : authority;
}

/** The first route of `vh` matching `req`. */
export function matchRoute(
  vh: VirtualHost,
  req: RoutableRequest,
  random: () => number = Math.random,
): Route | undefined {
  const path = pathOnly(req.path);
  let params: Map<string, string> | undefined;
  let src: HeaderSource | undefined;
  for (const r of vh.routes) {
    const m = r.match;
    if (!m.path(path)) continue;
    if (m.grpc && !isGrpc(req.headers)) continue;
    if (m.headers.length > 0) {
      src ??= requestHeaderSource(req);
      let ok = true;
      for (const h of m.headers) {
        if (!h(src)) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
    }
    if (m.query.length > 0) {
      params ??= queryParams(req.path);
      let ok = true;
      for (const q of m.query) {
        if (!q(params)) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
    }
    if (m.metadata.length > 0 && !m.metadata.every((p) => p(req.metadata))) continue;
    if (m.fraction !== undefined && random() >= m.fraction) continue;
    return r;
  }
  return undefined;
}

export function isGrpc(headers: readonly string[]): boolean {
  const ct = getHeader(headers, 'content-type');
  return ct !== undefined && ct.startsWith('application/grpc');
}

export function requestHeaderSource(req: RoutableRequest): HeaderSource {
  return {
    header(name) {
      if (name.charCodeAt(0) === 58) {
        if (name === ':method') return req.method;
        if (name === ':path') return req.path;
        if (name === ':authority') return req.authority;
        if (name === ':scheme') return req.scheme;
        return undefined;
      }
      if (name === 'host') return req.authority;
      return getHeaderJoined(req.headers, name);
    },
  };
}

/** Picks a weighted target with `r` uniform in [0, 1). */
export function pickTarget(action: ForwardAction, r: number): WeightedTarget {
  const targets = action.targets;
  if (targets.length === 1) return targets[0]!;
  let x = r * action.totalWeight;
  for (const t of targets) {
    if (x < t.weight) return t;
    x -= t.weight;
  }
  return targets[targets.length - 1]!;
}
