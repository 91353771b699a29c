// The request as it leaves for the upstream: hop-by-hop headers dropped, x-forwarded-proto and
// x-request-id set, header mutations applied from the most specific level out (weighted target,
// route, virtual host, route table; reversed with most_specific_header_mutations_wins), Host and
// path rewritten. Pure.
import { getHeader, removeHeader, setHeader, stripHopByHop } from '../http/headers.pure.js';
import type { RequestHead } from '../http/message.pure.js';
import type {
  ForwardAction,
  HeaderMutation,
  Route,
  RouteTable,
  VirtualHost,
  WeightedTarget,
} from '../model/route.js';
import { applyMutation, type HeaderContextSource } from '../router/header-ops.js';
import { upstreamPath } from '../router/rewrite.js';
import type { UpstreamRequest } from '../upstream/stream.js';

export interface PreparedRequest extends UpstreamRequest {
  readonly headers: string[];
}

/** Response mutations in the order they apply. */
const NONE: HeaderMutation[] = [];

export function responseMutations(
  table: RouteTable,
  vh: VirtualHost,
  route: Route,
  target: WeightedTarget | undefined,
): HeaderMutation[] {
  if (
    empty(route.responseHeaders) &&
    empty(vh.responseHeaders) &&
    empty(table.responseHeaders) &&
    (!target || empty(target.responseHeaders))
  )
    return NONE;
  const list = [
    target?.responseHeaders,
    route.responseHeaders,
    vh.responseHeaders,
    table.responseHeaders,
  ];
  const out = list.filter(
    (m): m is HeaderMutation => m !== undefined && (m.add.length > 0 || m.remove.length > 0),
  );
  return table.mostSpecificHeaderMutationsWins ? out.reverse() : out;
}

export function prepareRequest(
  req: RequestHead,
  o: {
    readonly table: RouteTable;
    readonly vh: VirtualHost;
    readonly route: Route;
    readonly action: ForwardAction;
    readonly target: WeightedTarget;
    readonly requestId: string;
    readonly ctx: HeaderContextSource;
    readonly endStream: boolean;
    readonly upstreamScheme: string;
  },
): PreparedRequest {
  const headers = stripHopByHop(req.headers.slice());
  removeHeader(headers, 'expect');
  setHeader(headers, 'x-forwarded-proto', req.scheme);
  if (o.requestId !== '') setHeader(headers, 'x-request-id', o.requestId);
  let authority = req.authority;
  const levels = [
    o.target.requestHeaders,
    o.route.requestHeaders,
    o.vh.requestHeaders,
    o.table.requestHeaders,
  ];
  if (o.table.mostSpecificHeaderMutationsWins) levels.reverse();
  for (const m of levels) {
    if (m.add.length === 0 && m.remove.length === 0) continue;
    const host = applyMutation(headers, m, o.ctx);
    if (host !== undefined) authority = host;
  }
  const a = o.action;
  if (o.target.hostRewrite !== undefined) authority = o.target.hostRewrite;
  else if (a.hostRewrite !== undefined) authority = a.hostRewrite;
  const cl = getHeader(headers, 'content-length');
  return {
    method: req.method,
    path: upstreamPath(req.path, o.route, a),
    authority,
    scheme: o.upstreamScheme,
    headers,
    contentLength: cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined,
    endStream: o.endStream,
  };
}

function empty(m: HeaderMutation): boolean {
  return m.add.length === 0 && m.remove.length === 0;
}

/** gRPC timeout header ("10S", "500m", ...) in ms; undefined when absent or malformed. */
export function grpcTimeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  switch (m[2]) {
    case 'H':
      return n * 3_600_000;
    case 'M':
      return n * 60_000;
    case 'S':
      return n * 1000;
    case 'm':
      return n;
    case 'u':
      return Math.ceil(n / 1000);
    default:
      return Math.ceil(n / 1_000_000);
  }
}
