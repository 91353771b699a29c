// HTTPRoute and GRPCRoute rules -> Envoy routes, one per match, each with its precedence.
import { create } from '@bufbuild/protobuf';
import {
  DirectResponseActionSchema,
  RetryPolicy_RetryBackOffSchema,
  RetryPolicySchema,
  RouteAction_ClusterNotFoundResponseCode,
  RouteAction_MaxStreamDurationSchema,
  RouteActionSchema,
  RouteSchema,
  type Route,
  type RouteAction,
} from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import { clusterSpecifier } from './backends.js';
import { CORS_FILTER, corsPerRoute } from './cors.js';
import { durationFromMs, parseGatewayDuration } from './duration.js';
import type {
  GRPCRoute,
  GRPCRouteRule,
  HTTPPathMatch,
  HTTPRoute,
  HTTPRouteRule,
} from '../../model/gateway-api.js';
import type { RouteContext, RouteSource } from './route-context.js';
import { applyRewrite, redirectAction, ruleFilters, type RuleFilters } from './route-filters.js';
import {
  grpcRouteMatch,
  httpRouteMatch,
  type MatchResult,
  type Precedence,
} from './route-match.js';

export interface RouteEntry {
  route: Route;
  precedence: Precedence;
  /** Position of the rule and match inside its route object, the last tie-breakers. */
  rule: number;
  match: number;
}

const HTTP_FILTERS = new Set([
  'RequestHeaderModifier',
  'ResponseHeaderModifier',
  'RequestRedirect',
  'URLRewrite',
  'RequestMirror',
  'CORS',
]);
const GRPC_FILTERS = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror']);

interface RuleTiming {
  timeoutMs?: number;
  perTryTimeoutMs?: number;
  retry?: { codes: number[]; attempts: number; backoffMs?: number };
}

export function httpRouteEntries(
  route: HTTPRoute,
  source: RouteSource,
  ctx: RouteContext,
): RouteEntry[] {
  const entries: RouteEntry[] = [];
  route.spec.rules.forEach((rule, i) => {
    const timing = ruleTiming(rule);
    if (typeof timing === 'string') {
      note(ctx, source, `rule ${ruleLabel(rule, i)}: ${timing}; rule ignored`);
      return;
    }
    if (rule.retry && ctx.target === 'grpc')
      note(ctx, source, 'retry is not applied by proxyless gRPC clients');
    const filters = ruleFilters(rule.filters, HTTP_FILTERS, source, ctx);
    rule.matches.forEach((m, j) => {
      const built = buildRoute(
        source,
        i,
        j,
        httpRouteMatch(m, ctx.target),
        m.path,
        rule,
        filters,
        timing,
        ctx,
      );
      if (built) entries.push(built);
    });
  });
  return entries;
}

export function grpcRouteEntries(
  route: GRPCRoute,
  source: RouteSource,
  ctx: RouteContext,
): RouteEntry[] {
  const entries: RouteEntry[] = [];
  route.spec.rules.forEach((rule, i) => {
    const filters = ruleFilters(rule.filters, GRPC_FILTERS, source, ctx);
    rule.matches.forEach((m, j) => {
      const built = buildRoute(source, i, j, grpcRouteMatch(m), undefined, rule, filters, {}, ctx);
      if (built) entries.push(built);
    });
  });
  return entries;
}

/** A rule as notes and status name it: its index, and its name when it has one (Gateway API v1.6). */
export function ruleLabel(rule: { readonly name?: string }, index: number): string {
  return rule.name ? `${index} (${rule.name})` : String(index);
}

function buildRoute(
  source: RouteSource,
  ruleIndex: number,
  matchIndex: number,
  matched: MatchResult,
  path: HTTPPathMatch | undefined,
  rule: HTTPRouteRule | GRPCRouteRule,
  filters: RuleFilters,
  timing: RuleTiming,
  ctx: RouteContext,
): RouteEntry | undefined {
  const where = `rule ${ruleLabel(rule, ruleIndex)} match ${matchIndex}`;
  if (!matched.ok) {
    note(ctx, source, `${where}: ${matched.reason}; match ignored`);
    return undefined;
  }
  const route = create(RouteSchema, {
    name: `${source.namespace}.${source.name}.${rule.name || ruleIndex}.${matchIndex}`,
    match: matched.match,
  });
  const entry = { route, precedence: matched.precedence, rule: ruleIndex, match: matchIndex };
  const grpc = ctx.target === 'grpc';
  const fail = (reason: string): RouteEntry | undefined => {
    if (grpc) {
      note(
        ctx,
        source,
        `${where}: ${reason}; match ignored (proxyless gRPC clients cannot answer with a fixed status)`,
      );
      return undefined;
    }
    note(ctx, source, `${where}: ${reason}; requests get 500`);
    route.action = {
      case: 'directResponse',
      value: create(DirectResponseActionSchema, { status: 500 }),
    };
    return entry;
  };
  if (filters.invalid) return fail(filters.invalid);

  if (!grpc) {
    route.requestHeadersToAdd = filters.requestHeadersToAdd;
    route.requestHeadersToRemove = filters.requestHeadersToRemove;
    route.responseHeadersToAdd = filters.responseHeadersToAdd;
    route.responseHeadersToRemove = filters.responseHeadersToRemove;
    if (filters.cors) route.typedPerFilterConfig[CORS_FILTER] = corsPerRoute(filters.cors);
  } else if (
    filters.requestHeadersToAdd.length +
      filters.requestHeadersToRemove.length +
      filters.responseHeadersToAdd.length +
      filters.responseHeadersToRemove.length +
      filters.mirrors.length >
      0 ||
    filters.cors
  ) {
    note(
      ctx,
      source,
      'header modifiers, mirrors and CORS are not applied by proxyless gRPC clients',
    );
  }

  if (filters.redirect) {
    if (grpc) {
      note(ctx, source, `${where}: proxyless gRPC clients cannot follow redirects; match ignored`);
      return undefined;
    }
    const redirect = redirectAction(filters.redirect, path);
    if (typeof redirect === 'string') return fail(redirect);
    route.action = { case: 'redirect', value: redirect };
    return entry;
  }

  const specifier = clusterSpecifier(rule.backendRefs, source, ctx);
  if (!specifier) return fail('no backend can receive traffic (none, all weights 0, or invalid)');
  const action: RouteAction = create(RouteActionSchema, { clusterSpecifier: specifier });
  if (grpc) {
    if (timing.timeoutMs !== undefined && timing.timeoutMs > 0)
      action.maxStreamDuration = create(RouteAction_MaxStreamDurationSchema, {
        maxStreamDuration: durationFromMs(timing.timeoutMs),
      });
    if (filters.rewrite) note(ctx, source, 'URLRewrite is not applied by proxyless gRPC clients');
    route.action = { case: 'route', value: action };
    return entry;
  }
  action.clusterNotFoundResponseCode =
    RouteAction_ClusterNotFoundResponseCode.INTERNAL_SERVER_ERROR;
  // Like Istio: no route timeout unless one is asked for (Envoy's default of 15 s breaks streams).
  action.timeout = durationFromMs(timing.timeoutMs ?? 0);
  if (filters.rewrite) {
    const problem = applyRewrite(action, filters.rewrite, path);
    if (problem) return fail(problem);
  }
  action.requestMirrorPolicies = filters.mirrors;
  if (timing.retry) {
    const retry = create(RetryPolicySchema, {
      retryOn: [
        'connect-failure',
        'refused-stream',
        ...(timing.retry.codes.length ? ['retriable-status-codes'] : []),
      ].join(','),
      numRetries: timing.retry.attempts,
      retriableStatusCodes: timing.retry.codes,
    });
    if (timing.retry.backoffMs)
      retry.retryBackOff = create(RetryPolicy_RetryBackOffSchema, {
        baseInterval: durationFromMs(timing.retry.backoffMs),
      });
    if (timing.perTryTimeoutMs !== undefined)
      retry.perTryTimeout = durationFromMs(timing.perTryTimeoutMs);
    action.retryPolicy = retry;
  }
  route.action = { case: 'route', value: action };
  return entry;
}

/**
 * `timeouts.request` is the route timeout; `timeouts.backendRequest` the per-try timeout when
 * retrying, else the route timeout when `request` is not set. `retry` (Gateway API GEP-1731):
 * `attempts` retries (default 2, 0 disables) on connect failures, refused streams and `codes`.
 */
function ruleTiming(rule: HTTPRouteRule): RuleTiming | string {
  const t: RuleTiming = {};
  const request = rule.timeouts?.request;
  const backend = rule.timeouts?.backendRequest;
  if (request !== undefined) {
    const ms = parseGatewayDuration(request);
    if (ms === undefined)
      return `timeouts.request "${request}" is not a duration like 10s or 1m30s`;
    t.timeoutMs = ms;
  }
  let backendMs: number | undefined;
  if (backend !== undefined) {
    backendMs = parseGatewayDuration(backend);
    if (backendMs === undefined)
      return `timeouts.backendRequest "${backend}" is not a duration like 10s or 1m30s`;
    if (t.timeoutMs && backendMs > t.timeoutMs)
      return 'timeouts.backendRequest must not exceed timeouts.request';
  }
  const r = rule.retry;
  if (r) {
    const { attempts } = r;
    const codes = [...r.codes];
    if (attempts < 0) return `retry.attempts ${attempts} must not be negative`;
    if (!codes.every((c) => c >= 400 && c <= 599))
      return 'retry.codes must be HTTP status codes 400-599';
    let backoffMs: number | undefined;
    if (r.backoff !== undefined) {
      backoffMs = parseGatewayDuration(r.backoff);
      if (backoffMs === undefined) return `retry.backoff "${r.backoff}" is not a duration`;
    }
    if (attempts > 0)
      t.retry = { attempts, codes, ...(backoffMs !== undefined ? { backoffMs } : {}) };
  }
  if (backendMs !== undefined) {
    if (t.retry) t.perTryTimeoutMs = backendMs;
    else t.timeoutMs ??= backendMs;
  }
  return t;
}

/**
 * What the translators leave out of a route or answer with 500 because a value cannot be honoured
 * (unsupported match or filter types, malformed durations, bad redirects), as a waypoint serves it,
 * each saying what happens to it: the same checks the translation makes, without resolving
 * backends (ResolvedRefs reports those). For the route's PartiallyInvalid status.
 */
export function routeRuleProblems(
  route: HTTPRoute | GRPCRoute,
  kind: 'HTTPRoute' | 'GRPCRoute',
): readonly string[] {
  let problems = ruleProblems.get(route);
  if (!problems) ruleProblems.set(route, (problems = findRuleProblems(route, kind)));
  return problems;
}

// Per route object: a route that did not change is not checked again on the next snapshot.
const ruleProblems = new WeakMap<HTTPRoute | GRPCRoute, readonly string[]>();

function findRuleProblems(route: HTTPRoute | GRPCRoute, kind: 'HTTPRoute' | 'GRPCRoute'): string[] {
  const problems: string[] = [];
  const grpc = kind === 'GRPCRoute';
  route.spec.rules.forEach((rule, i) => {
    if (!grpc) {
      const timing = ruleTiming(rule as HTTPRouteRule);
      if (typeof timing === 'string')
        return void problems.push(`rule ${ruleLabel(rule, i)}: ${timing}; rule ignored`);
    }
    const filters = ruleFilters(rule.filters, grpc ? GRPC_FILTERS : HTTP_FILTERS);
    if (filters.invalid)
      return void problems.push(`rule ${ruleLabel(rule, i)}: ${filters.invalid}; requests get 500`);
    rule.matches.forEach((m, j) => {
      const path = grpc ? undefined : (m as HTTPRouteRule['matches'][number]).path;
      const matched = grpc
        ? grpcRouteMatch(m as GRPCRouteRule['matches'][number])
        : httpRouteMatch(m as HTTPRouteRule['matches'][number], 'envoy');
      if (!matched.ok)
        return void problems.push(
          `rule ${ruleLabel(rule, i)} match ${j}: ${matched.reason}; match ignored`,
        );
      const redirect = filters.redirect && redirectAction(filters.redirect, path);
      const rewrite =
        filters.rewrite && applyRewrite(create(RouteActionSchema), filters.rewrite, path);
      const problem = typeof redirect === 'string' ? redirect : rewrite;
      if (problem)
        problems.push(`rule ${ruleLabel(rule, i)} match ${j}: ${problem}; requests get 500`);
    });
  });
  return problems;
}

function note(ctx: RouteContext, source: RouteSource, message: string): void {
  ctx.notes.add(source.kind, `${source.namespace}/${source.name}`, message);
}
