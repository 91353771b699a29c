// One Envoy Route (match + route/redirect/direct_response action) -> the routing model. Fields that
// would change behaviour and that Trellis does not implement are refused by name, so a control
// plane never believes something is enforced that is not. Pure.
import {
  RedirectAction_RedirectResponseCode as RedirectCode,
  RouteAction_ClusterNotFoundResponseCode as NotFoundCode,
  type RedirectAction as XdsRedirect,
  type Route as XdsRoute,
  type RouteAction as XdsRouteAction,
  type RouteAction_HashPolicy,
  type RouteAction_RequestMirrorPolicy,
  type RouteMatch,
} from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import type { DataSource } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import type { RegexMatchAndSubstitute } from '@trellis/api/gen/envoy/type/matcher/v3/regex_pb.js';
import type {
  DirectResponseAction,
  ForwardAction,
  HashPolicy,
  MirrorPolicy,
  RedirectAction,
  Route,
  RouteMatcher,
  WeightedTarget,
} from '../model/route.js';
import { durationMs, invalid } from './common.js';
import { headerMutation } from './header-mutation.js';
import {
  compileRegex,
  headerMatcher,
  queryMatcher,
  regexMatcher,
  type StringPredicate,
} from './matchers.js';
import { metadataMatcher } from './metadata.js';
import { perFilterConfig } from './per-filter.js';
import { runtimeFraction } from './percent.js';
import { retryPolicy } from './retry.js';

/** Envoy's route timeout when `timeout` is unset. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

const REDIRECT_STATUS: Record<number, number> = {
  [RedirectCode.MOVED_PERMANENTLY]: 301,
  [RedirectCode.FOUND]: 302,
  [RedirectCode.SEE_OTHER]: 303,
  [RedirectCode.TEMPORARY_REDIRECT]: 307,
  [RedirectCode.PERMANENT_REDIRECT]: 308,
};

const NOT_FOUND_STATUS: Record<number, number> = {
  [NotFoundCode.SERVICE_UNAVAILABLE]: 503,
  [NotFoundCode.NOT_FOUND]: 404,
  [NotFoundCode.INTERNAL_SERVER_ERROR]: 500,
};

export function route(r: XdsRoute, field: string): Route {
  if (!r.match) invalid(`${field}.match`, 'is missing');
  const { matcher, prefix } = routeMatch(r.match, `${field}.match`);
  let action: Route['action'];
  switch (r.action.case) {
    case 'route':
      action = forwardAction(r.action.value, `${field}.route`);
      break;
    case 'redirect':
      action = redirectAction(r.action.value, `${field}.redirect`);
      break;
    case 'directResponse':
      action = directResponse(
        r.action.value.status,
        r.action.value.body,
        `${field}.direct_response`,
      );
      break;
    default:
      invalid(field, `action ${String(r.action.case ?? '(none)')} is not supported`);
  }
  return {
    name: r.name,
    match: matcher,
    action,
    requestHeaders: headerMutation(
      r.requestHeadersToAdd,
      r.requestHeadersToRemove,
      `${field}.request_headers`,
    ),
    responseHeaders: headerMutation(
      r.responseHeadersToAdd,
      r.responseHeadersToRemove,
      `${field}.response_headers`,
    ),
    perFilter: perFilterConfig(r.typedPerFilterConfig, `${field}.typed_per_filter_config`),
    ...(prefix !== undefined ? { matchedPrefix: prefix } : {}),
  };
}

export function routeMatch(
  m: RouteMatch,
  field: string,
): { matcher: RouteMatcher; prefix?: string } {
  const caseSensitive = m.caseSensitive ?? true;
  const fold = (s: string): string => (caseSensitive ? s : s.toLowerCase());
  let path: StringPredicate;
  let describe: string;
  let prefix: string | undefined;
  const p = m.pathSpecifier;
  switch (p.case) {
    case 'prefix': {
      const want = fold(p.value);
      path = want === '' || want === '/' ? () => true : (s) => fold(s).startsWith(want);
      describe = `prefix ${p.value}`;
      prefix = p.value;
      break;
    }
    case 'path': {
      const want = fold(p.value);
      path = (s) => fold(s) === want;
      describe = `path ${p.value}`;
      prefix = p.value;
      break;
    }
    case 'pathSeparatedPrefix': {
      if (p.value.endsWith('/') || p.value.includes('?') || p.value.includes('#'))
        invalid(
          `${field}.path_separated_prefix`,
          `"${p.value}" must not end in "/" or hold ? or #`,
        );
      const want = fold(p.value);
      path = (s) => {
        const f = fold(s);
        return f === want || (f.startsWith(want) && f.charCodeAt(want.length) === 47);
      };
      describe = `path_separated_prefix ${p.value}`;
      prefix = p.value;
      break;
    }
    case 'safeRegex': {
      const re = regexMatcher(p.value, `${field}.safe_regex`, caseSensitive ? '' : 'i');
      path = (s) => re.test(s);
      describe = `regex ${p.value.regex}`;
      break;
    }
    default:
      invalid(field, `path specifier ${String(p.case ?? '(none)')} is not supported`);
  }
  if (m.tlsContext) invalid(`${field}.tls_context`, 'not supported');
  const fractionValue = m.runtimeFraction
    ? runtimeFraction(m.runtimeFraction, `${field}.runtime_fraction`)
    : undefined;
  return {
    matcher: {
      path,
      headers: m.headers.map((h, i) => headerMatcher(h, `${field}.headers[${i}]`)),
      query: m.queryParameters.map((q, i) => queryMatcher(q, `${field}.query_parameters[${i}]`)),
      metadata: m.dynamicMetadata.map((d, i) =>
        metadataMatcher(d, `${field}.dynamic_metadata[${i}]`),
      ),
      grpc: m.grpc !== undefined,
      ...(fractionValue !== undefined ? { fraction: fractionValue } : {}),
      describe,
    },
    ...(prefix !== undefined ? { prefix } : {}),
  };
}

function forwardAction(a: XdsRouteAction, field: string): ForwardAction {
  const targets: WeightedTarget[] = [];
  let totalWeight = 0;
  const c = a.clusterSpecifier;
  if (c.case === 'cluster') {
    if (c.value === '') invalid(`${field}.cluster`, 'empty cluster name');
    targets.push({
      cluster: c.value,
      weight: 1,
      requestHeaders: headerMutation([], [], ''),
      responseHeaders: headerMutation([], [], ''),
    });
    totalWeight = 1;
  } else if (c.case === 'weightedClusters') {
    for (const [i, w] of c.value.clusters.entries()) {
      const f = `${field}.weighted_clusters.clusters[${i}]`;
      if (w.clusterHeader !== '') invalid(`${f}.cluster_header`, 'not supported');
      if (w.name === '') invalid(`${f}.name`, 'empty cluster name');
      const weight = w.weight ?? 0;
      const host = w.hostRewriteSpecifier;
      targets.push({
        cluster: w.name,
        weight,
        requestHeaders: headerMutation(
          w.requestHeadersToAdd,
          w.requestHeadersToRemove,
          `${f}.request_headers`,
        ),
        responseHeaders: headerMutation(
          w.responseHeadersToAdd,
          w.responseHeadersToRemove,
          `${f}.response_headers`,
        ),
        ...(host.case === 'hostRewriteLiteral' ? { hostRewrite: host.value } : {}),
      });
      totalWeight += weight;
    }
    if (targets.length === 0) invalid(`${field}.weighted_clusters`, 'no clusters');
    if (totalWeight === 0) invalid(`${field}.weighted_clusters`, 'the weights sum to 0');
  } else {
    invalid(field, `cluster specifier ${String(c.case ?? '(none)')} is not supported`);
  }
  if (a.metadataMatch) invalid(`${field}.metadata_match`, 'subsets are not supported');
  if (a.pathRewritePolicy) invalid(`${field}.path_rewrite_policy`, 'not supported');
  if (a.internalRedirectPolicy) invalid(`${field}.internal_redirect_policy`, 'not supported');
  if (a.hedgePolicy) invalid(`${field}.hedge_policy`, 'not supported');

  let hostRewrite: string | undefined;
  let autoHostRewrite = false;
  const h = a.hostRewriteSpecifier;
  if (h.case === 'hostRewriteLiteral') hostRewrite = h.value;
  else if (h.case === 'autoHostRewrite') autoHostRewrite = h.value.value;
  else if (h.case !== undefined) invalid(`${field}.${h.case}`, 'not supported');

  const upgrades = new Map<string, boolean>();
  for (const [i, u] of a.upgradeConfigs.entries()) {
    if (u.connectConfig) invalid(`${field}.upgrade_configs[${i}].connect_config`, 'not supported');
    upgrades.set(u.upgradeType.toLowerCase(), u.enabled !== false);
  }
  const retry = a.retryPolicy ? retryPolicy(a.retryPolicy, `${field}.retry_policy`) : undefined;
  const maxGrpc = durationMs(a.maxGrpcTimeout, `${field}.max_grpc_timeout`);
  return {
    kind: 'forward',
    targets,
    totalWeight,
    clusterNotFoundStatus: NOT_FOUND_STATUS[a.clusterNotFoundResponseCode] ?? 503,
    timeoutMs: durationMs(a.timeout, `${field}.timeout`) ?? DEFAULT_ROUTE_TIMEOUT_MS,
    idleTimeoutMs: durationMs(a.idleTimeout, `${field}.idle_timeout`) ?? 0,
    ...(retry ? { retry } : {}),
    ...(a.prefixRewrite !== '' ? { prefixRewrite: a.prefixRewrite } : {}),
    ...(a.regexRewrite
      ? { regexRewrite: regexRewrite(a.regexRewrite, `${field}.regex_rewrite`) }
      : {}),
    ...(hostRewrite !== undefined ? { hostRewrite } : {}),
    autoHostRewrite,
    mirrors: mirrorPolicies(a.requestMirrorPolicies, `${field}.request_mirror_policies`),
    hashPolicies: a.hashPolicy.map((hp, i) => hashPolicy(hp, `${field}.hash_policy[${i}]`)),
    upgrades,
    ...(maxGrpc !== undefined ? { maxGrpcTimeoutMs: maxGrpc } : {}),
  };
}

export function mirrorPolicies(
  list: readonly RouteAction_RequestMirrorPolicy[],
  field: string,
): MirrorPolicy[] {
  return list.map((m, i) => {
    const f = `${field}[${i}]`;
    if (m.clusterHeader !== '') invalid(`${f}.cluster_header`, 'not supported');
    if (m.cluster === '') invalid(`${f}.cluster`, 'empty cluster name');
    return {
      cluster: m.cluster,
      fraction: runtimeFraction(m.runtimeFraction, `${f}.runtime_fraction`),
      shadowSuffix: !m.disableShadowHostSuffixAppend,
    };
  });
}

function hashPolicy(h: RouteAction_HashPolicy, field: string): HashPolicy {
  const p = h.policySpecifier;
  const terminal = h.terminal;
  switch (p.case) {
    case 'header':
      if (p.value.regexRewrite) invalid(`${field}.header.regex_rewrite`, 'not supported');
      return { kind: 'header', name: p.value.headerName.toLowerCase(), terminal };
    case 'cookie':
      if (p.value.ttl) invalid(`${field}.cookie.ttl`, 'generated cookies are not supported');
      return { kind: 'cookie', name: p.value.name, terminal };
    case 'connectionProperties':
      if (!p.value.sourceIp) invalid(`${field}.connection_properties`, 'source_ip must be true');
      return { kind: 'source-ip', terminal };
    case 'queryParameter':
      return { kind: 'query', name: p.value.name, terminal };
    default:
      invalid(field, `hash policy ${String(p.case ?? '(none)')} is not supported`);
  }
}

/** RE2 substitution (\1 for groups) -> a JavaScript replacement string ($1), applied to every match. */
export function regexRewrite(
  r: RegexMatchAndSubstitute,
  field: string,
): { pattern: RegExp; substitution: string } {
  if (!r.pattern) invalid(`${field}.pattern`, 'is missing');
  // Validated as a full-match regex first (RE2 constructs), then compiled unanchored, global.
  compileRegex(r.pattern.regex, `${field}.pattern.regex`);
  const pattern = new RegExp(r.pattern.regex, 'g');
  const substitution = r.substitution.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
  return { pattern, substitution };
}

function redirectAction(r: XdsRedirect, field: string): RedirectAction {
  let scheme: string | undefined;
  const s = r.schemeRewriteSpecifier;
  if (s.case === 'httpsRedirect') {
    if (s.value) scheme = 'https';
  } else if (s.case === 'schemeRedirect') scheme = s.value.toLowerCase();
  const p = r.pathRewriteSpecifier;
  const status = REDIRECT_STATUS[r.responseCode];
  if (status === undefined) invalid(`${field}.response_code`, `unknown code ${r.responseCode}`);
  if (r.portRedirect > 65535) invalid(`${field}.port_redirect`, `${r.portRedirect} is not a port`);
  return {
    kind: 'redirect',
    ...(scheme !== undefined ? { scheme } : {}),
    ...(r.hostRedirect !== '' ? { host: r.hostRedirect } : {}),
    ...(r.portRedirect !== 0 ? { port: r.portRedirect } : {}),
    ...(p.case === 'pathRedirect' ? { path: p.value } : {}),
    ...(p.case === 'prefixRewrite' ? { prefixRewrite: p.value } : {}),
    ...(p.case === 'regexRewrite'
      ? { regexRewrite: regexRewrite(p.value, `${field}.regex_rewrite`) }
      : {}),
    stripQuery: r.stripQuery,
    status,
  };
}

function directResponse(
  status: number,
  body: DataSource | undefined,
  field: string,
): DirectResponseAction {
  if (status < 200 || status > 599) invalid(`${field}.status`, `${status} is not in 200..599`);
  let text = '';
  if (body) {
    const s = body.specifier;
    if (s.case === 'inlineString') text = s.value;
    else if (s.case === 'inlineBytes') text = Buffer.from(s.value).toString('utf8');
    else if (s.case !== undefined)
      invalid(`${field}.body`, `${s.case} is not supported (inline only)`);
  }
  return { kind: 'direct', status, body: text };
}
