// Gateway API route filters -> Envoy route fields: header modifiers, redirects, URL rewrites, mirrors,
// CORS.
import { create } from '@bufbuild/protobuf';
import {
  HeaderValueOption_HeaderAppendAction,
  HeaderValueOptionSchema,
  HeaderValueSchema,
  RuntimeFractionalPercentSchema,
  type HeaderValueOption,
} from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import {
  RedirectAction_RedirectResponseCode,
  RedirectActionSchema,
  RouteAction_RequestMirrorPolicySchema,
  type RedirectAction,
  type RouteAction,
  type RouteAction_RequestMirrorPolicy,
} from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import {
  RegexMatchAndSubstituteSchema,
  RegexMatcherSchema,
  type RegexMatchAndSubstitute,
} from '@trellis/api/gen/envoy/type/matcher/v3/regex_pb.js';
import {
  FractionalPercent_DenominatorType,
  FractionalPercentSchema,
} from '@trellis/api/gen/envoy/type/v3/percent_pb.js';
import type { CorsPolicy } from '@trellis/api/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { backendCluster } from './backends.js';
import { corsPolicy } from './cors.js';
import type {
  HeaderModifier,
  HTTPPathMatch,
  PathModifier,
  RequestMirror,
  RequestRedirect,
  RouteFilter,
  URLRewrite,
} from '../../model/gateway-api.js';
import type { RouteContext, RouteSource } from './route-context.js';
import { escapeRegex } from './route-match.js';

export interface RuleFilters {
  requestHeadersToAdd: HeaderValueOption[];
  requestHeadersToRemove: string[];
  responseHeadersToAdd: HeaderValueOption[];
  responseHeadersToRemove: string[];
  redirect?: RequestRedirect;
  rewrite?: URLRewrite;
  mirrors: RouteAction_RequestMirrorPolicy[];
  cors?: CorsPolicy;
  /** A filter that cannot be honoured: Gateway API asks for the rule to answer 500. */
  invalid?: string;
}

const REDIRECT_CODES: Record<number, RedirectAction_RedirectResponseCode> = {
  301: RedirectAction_RedirectResponseCode.MOVED_PERMANENTLY,
  302: RedirectAction_RedirectResponseCode.FOUND,
  303: RedirectAction_RedirectResponseCode.SEE_OTHER,
  307: RedirectAction_RedirectResponseCode.TEMPORARY_REDIRECT,
  308: RedirectAction_RedirectResponseCode.PERMANENT_REDIRECT,
};

/**
 * `allowed`: filter types this route kind may use (GRPCRoute has no redirect or rewrite). Without
 * `ctx` (checking only), mirror backends are not resolved.
 */
export function ruleFilters(
  filters: readonly RouteFilter[],
  allowed: ReadonlySet<string>,
  source?: RouteSource,
  ctx?: RouteContext,
): RuleFilters {
  const out: RuleFilters = {
    requestHeadersToAdd: [],
    requestHeadersToRemove: [],
    responseHeadersToAdd: [],
    responseHeadersToRemove: [],
    mirrors: [],
  };
  for (const f of filters) {
    const type = f.type;
    if (!allowed.has(type)) {
      out.invalid = `filter type "${type}" is not supported`;
      continue;
    }
    if (type === 'RequestHeaderModifier' || type === 'ResponseHeaderModifier') {
      const mod =
        type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.responseHeaderModifier;
      const r = headerModifier(mod);
      if (typeof r === 'string') out.invalid = `${type}: ${r}`;
      else if (type === 'RequestHeaderModifier') {
        out.requestHeadersToAdd.push(...r.add);
        out.requestHeadersToRemove.push(...r.remove);
      } else {
        out.responseHeadersToAdd.push(...r.add);
        out.responseHeadersToRemove.push(...r.remove);
      }
    } else if (type === 'RequestRedirect') {
      if (!f.requestRedirect) out.invalid = 'RequestRedirect filter without requestRedirect';
      else out.redirect = f.requestRedirect;
    } else if (type === 'URLRewrite') {
      if (!f.urlRewrite) out.invalid = 'URLRewrite filter without urlRewrite';
      else out.rewrite = f.urlRewrite;
    } else if (type === 'CORS') {
      if (!f.cors) out.invalid = 'CORS filter without cors';
      else {
        const r = corsPolicy(f.cors);
        if (typeof r === 'string') out.invalid = `CORS: ${r}`;
        else out.cors = r;
      }
    } else if (type === 'RequestMirror') {
      const m = f.requestMirror;
      const perMillion = m && mirrorPerMillion(m);
      if (m && perMillion === undefined) {
        out.invalid =
          'RequestMirror: percent must be 0-100, fraction numerator <= denominator (> 0)';
        continue;
      }
      if (!source || !ctx) continue;
      const r = m
        ? backendCluster(m.backendRef, source, ctx)
        : { problem: 'RequestMirror filter without requestMirror' };
      if ('problem' in r) {
        ctx.notes.add(
          source.kind,
          `${source.namespace}/${source.name}`,
          `mirror ignored: ${r.problem}`,
        );
        continue;
      }
      const policy = create(RouteAction_RequestMirrorPolicySchema, { cluster: r.cluster });
      if (perMillion! < 1_000_000)
        policy.runtimeFraction = create(RuntimeFractionalPercentSchema, {
          defaultValue: create(FractionalPercentSchema, {
            numerator: perMillion!,
            denominator: FractionalPercent_DenominatorType.MILLION,
          }),
        });
      out.mirrors.push(policy);
    }
  }
  if (out.redirect && (out.rewrite || out.mirrors.length))
    out.invalid = 'RequestRedirect cannot be combined with URLRewrite or RequestMirror';
  return out;
}

function mirrorPerMillion(m: RequestMirror): number | undefined {
  if (m.percent !== undefined) {
    if (!(m.percent >= 0 && m.percent <= 100)) return undefined;
    return m.percent * 10_000;
  }
  if (m.fraction !== undefined) {
    const { numerator: n, denominator: d } = m.fraction;
    if (!(n >= 0 && d > 0 && n <= d)) return undefined;
    return Math.round((n * 1_000_000) / d);
  }
  return 1_000_000;
}

function headerModifier(
  mod: HeaderModifier | undefined,
): { add: HeaderValueOption[]; remove: string[] } | string {
  if (!mod) return 'missing configuration';
  const add: HeaderValueOption[] = [];
  const entries = [
    ...mod.set.map(
      (h) => [h, HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD] as const,
    ),
    ...mod.add.map(
      (h) => [h, HeaderValueOption_HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD] as const,
    ),
  ];
  for (const [h, appendAction] of entries) {
    if (h.name === '') return 'every header needs a name';
    add.push(
      create(HeaderValueOptionSchema, {
        header: create(HeaderValueSchema, { key: h.name.toLowerCase(), value: h.value }),
        appendAction,
      }),
    );
  }
  const remove = mod.remove;
  if (remove.some((n) => n === '')) return 'remove lists header names';
  return { add, remove: remove.map((n) => n.toLowerCase()) };
}

/** RequestRedirect -> RedirectAction; a string says why it cannot be built. */
export function redirectAction(
  r: RequestRedirect,
  path: HTTPPathMatch | undefined,
): RedirectAction | string {
  const code = REDIRECT_CODES[r.statusCode];
  if (code === undefined)
    return `RequestRedirect statusCode ${r.statusCode} is not one of 301, 302, 303, 307, 308`;
  const action = create(RedirectActionSchema, { responseCode: code });
  if (r.scheme !== undefined) {
    if (r.scheme !== 'http' && r.scheme !== 'https')
      return `RequestRedirect scheme "${r.scheme}" must be http or https`;
    action.schemeRewriteSpecifier = { case: 'schemeRedirect', value: r.scheme };
  }
  if (r.hostname !== undefined) action.hostRedirect = r.hostname;
  if (r.port !== undefined) {
    if (!(r.port > 0 && r.port < 65536)) return `RequestRedirect port ${r.port} is invalid`;
    action.portRedirect = r.port;
  }
  if (r.path) {
    const p = pathRewrite(r.path, path);
    if (typeof p === 'string') return `RequestRedirect: ${p}`;
    action.pathRewriteSpecifier =
      p.kind === 'full'
        ? { case: 'pathRedirect', value: p.path }
        : { case: 'regexRewrite', value: p.regex };
  }
  return action;
}

/** URLRewrite applied to a route action; a string says why it cannot be. */
export function applyRewrite(
  action: RouteAction,
  rw: URLRewrite,
  path: HTTPPathMatch | undefined,
): string | undefined {
  if (rw.hostname !== undefined)
    action.hostRewriteSpecifier = { case: 'hostRewriteLiteral', value: rw.hostname };
  if (!rw.path) return undefined;
  const p = pathRewrite(rw.path, path);
  if (typeof p === 'string') return `URLRewrite: ${p}`;
  action.regexRewrite =
    p.kind === 'regex'
      ? p.regex
      : create(RegexMatchAndSubstituteSchema, {
          pattern: create(RegexMatcherSchema, { regex: '^/.*$' }),
          substitution: p.path,
        });
  return undefined;
}

type PathRewrite =
  { kind: 'full'; path: string } | { kind: 'regex'; regex: RegexMatchAndSubstitute };

/**
 * ReplaceFullPath replaces the path; ReplacePrefixMatch swaps the matched prefix, segment-wise
 * (prefix "/foo" with "/" turns "/foo/bar" into "/bar"), so it needs a PathPrefix match.
 */
function pathRewrite(m: PathModifier, match: HTTPPathMatch | undefined): PathRewrite | string {
  if (m.type === 'ReplaceFullPath') {
    if (m.replaceFullPath === undefined || !m.replaceFullPath.startsWith('/'))
      return 'replaceFullPath must start with "/"';
    return { kind: 'full', path: m.replaceFullPath };
  }
  if (m.type !== 'ReplacePrefixMatch') return `unsupported path modifier type "${m.type}"`;
  if ((match?.type ?? 'PathPrefix') !== 'PathPrefix')
    return 'ReplacePrefixMatch needs a PathPrefix match';
  if (m.replacePrefixMatch === undefined || !m.replacePrefixMatch.startsWith('/'))
    return 'replacePrefixMatch must start with "/"';
  const prefix = (match?.value ?? '/').replace(/\/+$/, '');
  const replacement = m.replacePrefixMatch.replace(/\/+$/, '');
  const regex =
    replacement === ''
      ? { pattern: `^${escapeRegex(prefix)}/?(.*)$`, substitution: '/\\1' }
      : { pattern: `^${escapeRegex(prefix)}(/.*)?$`, substitution: `${replacement}\\1` };
  return {
    kind: 'regex',
    regex: create(RegexMatchAndSubstituteSchema, {
      pattern: create(RegexMatcherSchema, { regex: regex.pattern }),
      substitution: regex.substitution,
    }),
  };
}
