// Gateway API matches -> Envoy RouteMatch, plus the precedence Gateway API defines between them.
import { create } from '@bufbuild/protobuf';
import {
  HeaderMatcherSchema,
  QueryParameterMatcherSchema,
  RouteMatchSchema,
  type HeaderMatcher,
  type QueryParameterMatcher,
  type RouteMatch,
} from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import { RegexMatcherSchema } from '@trellis/api/gen/envoy/type/matcher/v3/regex_pb.js';
import {
  StringMatcherSchema,
  type StringMatcher,
} from '@trellis/api/gen/envoy/type/matcher/v3/string_pb.js';
import type { GRPCRouteMatch, HeaderMatch, HTTPRouteMatch } from '../../model/gateway-api.js';

/**
 * Who consumes the routes. Proxyless gRPC accepts only `prefix`, `path` and `safe_regex` paths
 * and ignores query parameters, so the two differ in a few places.
 */
export type RouteTarget = 'envoy' | 'grpc';

/** Gateway API ordering: more specific first (see `comparePrecedence`). */
export interface Precedence {
  /** 3 exact path, 2 regular expression, 1 prefix (as Envoy Gateway orders them). */
  pathKind: number;
  pathLength: number;
  method: number;
  headers: number;
  queryParams: number;
}

export type MatchResult =
  { ok: true; match: RouteMatch; precedence: Precedence } | { ok: false; reason: string };

export function httpRouteMatch(m: HTTPRouteMatch, target: RouteTarget): MatchResult {
  const { type, value } = m.path;
  let pathSpecifier: RouteMatch['pathSpecifier'];
  let pathKind: number;
  let pathLength = value.length;
  if (type === 'Exact' || type === 'PathPrefix') {
    if (!value.startsWith('/')) return { ok: false, reason: `path "${value}" must start with "/"` };
    if (/[?#]/.test(value))
      return { ok: false, reason: `path "${value}" must not contain "?" or "#"` };
  }
  if (type === 'Exact') {
    pathSpecifier = { case: 'path', value };
    pathKind = 3;
  } else if (type === 'PathPrefix') {
    // Gateway API prefixes match whole path segments ("/foo" matches "/foo/bar", not "/foobar").
    const trimmed = value.replace(/\/+$/, '');
    pathSpecifier =
      trimmed === ''
        ? { case: 'prefix', value: '/' }
        : target === 'envoy'
          ? { case: 'pathSeparatedPrefix', value: trimmed }
          : { case: 'prefix', value: trimmed };
    pathKind = 1;
    pathLength = Math.max(trimmed.length, 1);
  } else if (type === 'RegularExpression') {
    pathSpecifier = { case: 'safeRegex', value: create(RegexMatcherSchema, { regex: value }) };
    pathKind = 2;
  } else {
    return { ok: false, reason: `unsupported path match type "${type}"` };
  }
  const headers: HeaderMatcher[] = [];
  for (const h of m.headers) {
    const r = headerMatcher(h);
    if (typeof r === 'string') return { ok: false, reason: r };
    headers.push(r);
  }
  if (m.method !== undefined) {
    if (m.method === '') return { ok: false, reason: 'method must not be empty' };
    headers.push(
      create(HeaderMatcherSchema, {
        name: ':method',
        headerMatchSpecifier: { case: 'stringMatch', value: exact(m.method) },
      }),
    );
  }
  const queryParameters: QueryParameterMatcher[] = [];
  for (const q of m.queryParams) {
    if (target === 'grpc')
      return { ok: false, reason: 'proxyless gRPC clients cannot match query parameters' };
    const r = stringMatch(q, 'queryParams');
    if (typeof r === 'string') return { ok: false, reason: r };
    queryParameters.push(
      create(QueryParameterMatcherSchema, {
        name: q.name,
        queryParameterMatchSpecifier: { case: 'stringMatch', value: r },
      }),
    );
  }
  return {
    ok: true,
    match: create(RouteMatchSchema, { pathSpecifier, headers, queryParameters }),
    precedence: {
      pathKind,
      pathLength,
      method: m.method !== undefined ? 1 : 0,
      headers: m.headers.length,
      queryParams: queryParameters.length,
    },
  };
}

/** A gRPC method match becomes a path match on `/<service>/<method>`. */
export function grpcRouteMatch(m: GRPCRouteMatch): MatchResult {
  const type = m.method?.type ?? 'Exact';
  const service = m.method?.service;
  const method = m.method?.method;
  for (const [field, v] of [
    ['service', service],
    ['method', method],
  ] as const)
    if (v !== undefined && (v === '' || (type === 'Exact' && v.includes('/'))))
      return { ok: false, reason: `method.${field} must be a non-empty string without "/"` };
  let pathSpecifier: RouteMatch['pathSpecifier'];
  let pathKind: number;
  let pathLength: number;
  if (m.method && type !== 'Exact' && type !== 'RegularExpression')
    return { ok: false, reason: `unsupported method match type "${type}"` };
  if (service === undefined && method === undefined) {
    pathSpecifier = { case: 'prefix', value: '/' };
    pathKind = 1;
    pathLength = 1;
  } else if (type === 'Exact' && service !== undefined && method !== undefined) {
    const path = `/${service}/${method}`;
    pathSpecifier = { case: 'path', value: path };
    pathKind = 3;
    pathLength = path.length;
  } else if (type === 'Exact' && service !== undefined) {
    pathSpecifier = { case: 'prefix', value: `/${service}/` };
    pathKind = 1;
    pathLength = service.length + 2;
  } else {
    const s = service === undefined ? '[^/]+' : type === 'Exact' ? escapeRegex(service) : service;
    const n = method === undefined ? '[^/]+' : type === 'Exact' ? escapeRegex(method) : method;
    pathSpecifier = {
      case: 'safeRegex',
      value: create(RegexMatcherSchema, { regex: `/${s}/${n}` }),
    };
    pathKind = 2;
    pathLength = s.length + n.length;
  }
  const headers: HeaderMatcher[] = [];
  for (const h of m.headers) {
    const r = headerMatcher(h);
    if (typeof r === 'string') return { ok: false, reason: r };
    headers.push(r);
  }
  return {
    ok: true,
    match: create(RouteMatchSchema, { pathSpecifier, headers }),
    precedence: { pathKind, pathLength, method: 0, headers: headers.length, queryParams: 0 },
  };
}

/** Negative when `a` is more specific than `b` (sorts first). */
export function comparePrecedence(a: Precedence, b: Precedence): number {
  return (
    b.pathKind - a.pathKind ||
    b.pathLength - a.pathLength ||
    b.method - a.method ||
    b.headers - a.headers ||
    b.queryParams - a.queryParams
  );
}

function headerMatcher(h: HeaderMatch): HeaderMatcher | string {
  const r = stringMatch(h, 'headers');
  if (typeof r === 'string') return r;
  return create(HeaderMatcherSchema, {
    name: h.name.toLowerCase(),
    headerMatchSpecifier: { case: 'stringMatch', value: r },
  });
}

function stringMatch(h: HeaderMatch, field: string): StringMatcher | string {
  if (h.name === '') return `${field}[].name must not be empty`;
  const type = h.type;
  if (type === 'Exact') return exact(h.value);
  if (type === 'RegularExpression')
    return create(StringMatcherSchema, {
      matchPattern: { case: 'safeRegex', value: create(RegexMatcherSchema, { regex: h.value }) },
    });
  return `${field}[${h.name}]: unsupported match type "${type}"`;
}

function exact(value: string): StringMatcher {
  return create(StringMatcherSchema, { matchPattern: { case: 'exact', value } });
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
