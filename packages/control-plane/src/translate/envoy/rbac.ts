// L7 AuthorizationPolicy -> `envoy.filters.http.rbac` filters for one waypoint filter chain.
//
// Shape (as Istio builds it): one RBAC filter for DENY policies, then one for ALLOW policies; each
// policy rule becomes one RBAC policy `ns[<ns>]-policy[<name>]-rule[<i>]` whose permissions are
// `to` and request `when` conditions and whose principals are `from` and source `when` conditions.
// Dry-run policies (`istio.io/dry-run`) go to the filters' shadow rules. Principals match the
// peer certificate's SPIFFE URI SAN (`spiffe://` + the policy's `cluster.local/ns/x/sa/y`).
//
// Paths with Istio's templates (`{*}`, `{**}`) become URI template permissions (path-template.pure.ts).
// Request principals and `request.auth.*` conditions read the istio_authn metadata the waypoint's
// JWT filter writes (RequestAuthentication). An attribute the waypoint cannot evaluate (unknown
// keys, values that do not parse; HTTP attributes on a TCP chain) never weakens a policy: an ALLOW rule using it is dropped (allows nothing); a
// DENY rule is kept without it, and an entry made only of it always matches (denies more).
// AUDIT policies change no decision and are left out; CUSTOM needs an ext_authz provider, which
// is not supported, so CUSTOM rules deny what they match (fail closed).
import { create } from '@bufbuild/protobuf';
import {
  Permission_SetSchema,
  PermissionSchema,
  PolicySchema,
  Principal_AuthenticatedSchema,
  Principal_SetSchema,
  PrincipalSchema,
  RBAC_Action,
  RBACSchema as RbacRulesSchema,
  type Permission,
  type Policy,
  type Principal,
} from '@trellis/api/gen/envoy/config/rbac/v3/rbac_pb.js';
import { HeaderMatcherSchema } from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import { RBACSchema } from '@trellis/api/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import {
  HttpFilterSchema,
  type HttpFilter,
} from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RBACSchema as NetworkRbacSchema } from '@trellis/api/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import {
  FilterSchema,
  type Filter,
} from '@trellis/api/gen/envoy/config/listener/v3/listener_components_pb.js';
import { PathMatcherSchema } from '@trellis/api/gen/envoy/type/matcher/v3/path_pb.js';
import { TypedExtensionConfigSchema } from '@trellis/api/gen/envoy/config/core/v3/extension_pb.js';
import { UriTemplateMatchConfigSchema } from '@trellis/api/gen/envoy/extensions/path/match/uri_template/v3/uri_template_match_pb.js';
import { RegexMatcherSchema } from '@trellis/api/gen/envoy/type/matcher/v3/regex_pb.js';
import {
  MetadataMatcher_PathSegmentSchema,
  MetadataMatcherSchema,
  type MetadataMatcher,
} from '@trellis/api/gen/envoy/type/matcher/v3/metadata_pb.js';
import {
  ListMatcherSchema,
  ValueMatcherSchema,
} from '@trellis/api/gen/envoy/type/matcher/v3/value_pb.js';
import {
  StringMatcherSchema,
  type StringMatcher,
} from '@trellis/api/gen/envoy/type/matcher/v3/string_pb.js';
import { packAny } from '@trellis/api';
import type {
  AuthorizationCondition,
  AuthorizationFields,
  AuthorizationRule,
} from '../../model/istio-security.js';
import type { AuthorizationPolicyInfo } from '../../model/policy-info.js';
import { cidrRange } from './common.js';
import type { NoteSink } from './notes.js';
import { escapeRegex } from './route-match.js';
import { envoyPathTemplate } from './path-template.pure.js';

export const RBAC_DENY_FILTER = 'envoy.filters.http.rbac.deny';
export const RBAC_ALLOW_FILTER = 'envoy.filters.http.rbac.allow';

/** One translated piece: what it matches, and what had to be left out. */
interface Part<T> {
  value?: T;
  unsupported: string[];
}

export function rbacFilters(
  policies: readonly AuthorizationPolicyInfo[],
  trustDomain: string,
  notes: NoteSink,
): HttpFilter[] {
  return rbacSets(policies, trustDomain, notes, false).map((f) =>
    create(HttpFilterSchema, {
      name: f.name,
      configType: { case: 'typedConfig', value: packAny(RBACSchema, httpRbacConfig(f)) },
    }),
  );
}

/**
 * The same policies for a TCP chain (`envoy.filters.network.rbac`): only L4 attributes apply; an
 * ALLOW rule using HTTP attributes allows nothing, a DENY rule is enforced without them (as Istio
 * does for TCP traffic).
 */
export function networkRbacFilters(
  policies: readonly AuthorizationPolicyInfo[],
  trustDomain: string,
  notes: NoteSink,
): Filter[] {
  return rbacSets(policies, trustDomain, notes, true).map((f) =>
    create(FilterSchema, {
      name: f.name.replace('envoy.filters.http.rbac', 'envoy.filters.network.rbac'),
      configType: {
        case: 'typedConfig',
        value: packAny(
          NetworkRbacSchema,
          create(NetworkRbacSchema, {
            ...(f.enforce
              ? {
                  rules: create(RbacRulesSchema, {
                    action: f.action,
                    policies: Object.fromEntries(f.rules),
                  }),
                }
              : {}),
            ...(f.hasShadow
              ? {
                  shadowRules: create(RbacRulesSchema, {
                    action: f.action,
                    policies: Object.fromEntries(f.shadow),
                  }),
                  shadowRulesStatPrefix: f.shadowPrefix,
                }
              : {}),
            statPrefix: 'tcp.',
          }),
        ),
      },
    }),
  );
}

interface RbacSet {
  readonly name: string;
  readonly action: RBAC_Action;
  readonly rules: Map<string, Policy>;
  readonly enforce: boolean;
  readonly shadow: Map<string, Policy>;
  readonly shadowPrefix: string;
  readonly hasShadow: boolean;
}

function httpRbacConfig(f: RbacSet) {
  const config = create(RBACSchema);
  if (f.enforce)
    config.rules = create(RbacRulesSchema, {
      action: f.action,
      policies: Object.fromEntries(f.rules),
    });
  if (f.hasShadow) {
    config.shadowRules = create(RbacRulesSchema, {
      action: f.action,
      policies: Object.fromEntries(f.shadow),
    });
    config.shadowRulesStatPrefix = f.shadowPrefix;
  }
  return config;
}

function rbacSets(
  policies: readonly AuthorizationPolicyInfo[],
  trustDomain: string,
  notes: NoteSink,
  tcp: boolean,
): RbacSet[] {
  const sets = {
    deny: new Map<string, Policy>(),
    denyShadow: new Map<string, Policy>(),
    allow: new Map<string, Policy>(),
    allowShadow: new Map<string, Policy>(),
  };
  let allowPolicies = 0;
  let allowShadowPolicies = 0;
  for (const p of policies) {
    // The collections keep an unknown action as ALLOW with nobody enforcing it.
    if (p.enforcedBy === 'none' && p.action === 'ALLOW') {
      notes.add('AuthorizationPolicy', p.key, `${p.problem ?? 'invalid policy'}; ignored`);
      continue;
    }
    if (p.action === 'AUDIT') {
      notes.add('AuthorizationPolicy', p.key, 'AUDIT policies are not enforced by the waypoint');
      continue;
    }
    if (p.action === 'CUSTOM')
      notes.add(
        'AuthorizationPolicy',
        p.key,
        'CUSTOM needs an ext_authz provider, which the waypoint lacks; requests its rules match are denied',
      );
    const deny = p.action !== 'ALLOW';
    if (!deny) {
      if (p.dryRun) allowShadowPolicies++;
      else allowPolicies++;
    }
    const target = deny
      ? p.dryRun
        ? sets.denyShadow
        : sets.deny
      : p.dryRun
        ? sets.allowShadow
        : sets.allow;
    const unsupported = new Set<string>();
    p.rules.forEach((rule, i) => {
      const r = rulePolicy(rule, p.namespace, trustDomain, deny, tcp);
      r.unsupported.forEach((u) => unsupported.add(u));
      if (r.value) target.set(`ns[${p.namespace}]-policy[${p.name}]-rule[${i}]`, r.value);
    });
    if (unsupported.size > 0) {
      const list = [...unsupported].sort().join(', ');
      notes.add(
        'AuthorizationPolicy',
        p.key,
        deny
          ? `the waypoint cannot evaluate ${list}${tcp ? ' on TCP ports' : ''}; this policy is enforced without them and denies more than written`
          : `the waypoint cannot evaluate ${list}${tcp ? ' on TCP ports' : ''}; rules using them allow nothing`,
      );
    }
  }
  const filters: RbacSet[] = [];
  if (sets.deny.size + sets.denyShadow.size > 0)
    filters.push({
      name: RBAC_DENY_FILTER,
      action: RBAC_Action.DENY,
      rules: sets.deny,
      enforce: sets.deny.size > 0,
      shadow: sets.denyShadow,
      shadowPrefix: 'istio_dry_run_deny_',
      hasShadow: sets.denyShadow.size > 0,
    });
  // An ALLOW policy that allows nothing still denies everything else, so it is sent even when empty.
  if (allowPolicies + allowShadowPolicies > 0)
    filters.push({
      name: RBAC_ALLOW_FILTER,
      action: RBAC_Action.ALLOW,
      rules: sets.allow,
      enforce: allowPolicies > 0,
      shadow: sets.allowShadow,
      shadowPrefix: 'istio_dry_run_allow_',
      hasShadow: allowShadowPolicies > 0,
    });
  return filters;
}

const SOURCE_CONDITIONS = new Set([
  'source.ip',
  'remote.ip',
  'source.namespace',
  'source.principal',
]);

function rulePolicy(
  rule: AuthorizationRule,
  namespace: string,
  trustDomain: string,
  deny: boolean,
  tcp: boolean,
): Part<Policy> {
  const unsupported: string[] = [];
  // Each clause: alternatives (OR); the rule needs every clause (AND). undefined = always true.
  const permissionClauses: Permission[] = [];
  const principalClauses: Principal[] = [];
  const take = <T>(parts: Part<T>[], or: (xs: T[]) => T): T | undefined => {
    const found = parts.flatMap((p) => p.unsupported);
    unsupported.push(...found);
    // An entry with nothing left always matches; then so does the clause.
    if (parts.some((p) => p.value === undefined)) return undefined;
    return or(parts.map((p) => p.value!));
  };
  if (rule.to.length) {
    const c = take(
      rule.to.map((t) => operation(t.operation, tcp)),
      orPermissions,
    );
    if (c) permissionClauses.push(c);
  }
  if (rule.from.length) {
    const c = take(
      rule.from.map((f) => source(f.source, namespace, trustDomain, tcp)),
      orPrincipals,
    );
    if (c) principalClauses.push(c);
  }
  for (const cond of rule.when) {
    if (SOURCE_CONDITIONS.has(cond.key)) {
      const c = take([sourceCondition(cond)], orPrincipals);
      if (c) principalClauses.push(c);
    } else {
      const c = take([requestCondition(cond, tcp)], orPermissions);
      if (c) permissionClauses.push(c);
    }
  }
  if (unsupported.length > 0 && !deny) return { unsupported };
  return {
    value: create(PolicySchema, {
      permissions: [permissionClauses.length ? andPermissions(permissionClauses) : anyPermission()],
      principals: [principalClauses.length ? andPrincipals(principalClauses) : anyPrincipal()],
    }),
    unsupported,
  };
}

// --- to.operation ---------------------------------------------------------------------------

/** Attributes a TCP connection has no value for. */
const HTTP_ONLY = new Set(['hosts', 'methods', 'paths', 'requestPrincipals']);

function operation(op: AuthorizationFields, tcp: boolean): Part<Permission> {
  const rules: Permission[] = [];
  const unsupported: string[] = [];
  const entries = Object.entries(op);
  if (entries.length === 0) return { unsupported: ['an empty to.operation'] };
  for (const [key, raw] of entries) {
    const values = stringList(raw);
    const negate = key.startsWith('not');
    const field = negate ? key.charAt(3).toLowerCase() + key.slice(4) : key;
    const build = tcp && HTTP_ONLY.has(field) ? undefined : OPERATION_FIELDS[field];
    if (!build || !values) {
      unsupported.push(`to.operation.${key}`);
      continue;
    }
    const built = values.map(build);
    const invalid = built.filter((b) => typeof b === 'string');
    if (invalid.length > 0 || built.some((b) => b === undefined)) {
      unsupported.push(
        `to.operation.${key} values${invalid.length ? ` (${invalid.join('; ')})` : ''}`,
      );
      continue;
    }
    const any = orPermissions(built as Permission[]);
    rules.push(negate ? notPermission(any) : any);
  }
  return { value: rules.length ? andPermissions(rules) : undefined, unsupported };
}

/** A value's permission; undefined when it cannot be evaluated, or a string saying why it is invalid. */
const OPERATION_FIELDS: Record<string, (v: string) => Permission | string | undefined> = {
  // A plain host also matches with any port ("example.com:8080"), as in Istio.
  hosts: (v) =>
    v.includes('*')
      ? headerPermission(':authority', wildcardMatcher(v, '', true))
      : orPermissions([
          headerPermission(
            ':authority',
            create(StringMatcherSchema, {
              matchPattern: { case: 'exact', value: v },
              ignoreCase: true,
            }),
          ),
          headerPermission(
            ':authority',
            create(StringMatcherSchema, {
              matchPattern: { case: 'prefix', value: `${v}:` },
              ignoreCase: true,
            }),
          ),
        ]),
  methods: (v) => istioHeaderPermission(':method', v),
  paths: (v) => {
    const t = envoyPathTemplate(v);
    if (!t)
      return create(PermissionSchema, {
        rule: {
          case: 'urlPath',
          value: create(PathMatcherSchema, {
            rule: { case: 'path', value: wildcardMatcher(v, '', false) },
          }),
        },
      });
    if ('invalid' in t) return t.invalid;
    return create(PermissionSchema, {
      rule: {
        case: 'uriTemplate',
        value: create(TypedExtensionConfigSchema, {
          name: 'envoy.path.match.uri_template.uri_template_matcher',
          typedConfig: packAny(
            UriTemplateMatchConfigSchema,
            create(UriTemplateMatchConfigSchema, { pathTemplate: t.template }),
          ),
        }),
      },
    });
  },
  ports: (v) => {
    const port = portNumber(v);
    return port === undefined
      ? undefined
      : create(PermissionSchema, { rule: { case: 'destinationPort', value: port } });
  },
};

// --- from.source ----------------------------------------------------------------------------

function source(
  src: AuthorizationFields,
  namespace: string,
  trustDomain: string,
  tcp: boolean,
): Part<Principal> {
  const ids: Principal[] = [];
  const unsupported: string[] = [];
  const entries = Object.entries(src);
  if (entries.length === 0) return { unsupported: ['an empty from.source'] };
  for (const [key, raw] of entries) {
    const values = stringList(raw);
    const negate = key.startsWith('not');
    const field = negate ? key.charAt(3).toLowerCase() + key.slice(4) : key;
    const build = tcp && HTTP_ONLY.has(field) ? undefined : SOURCE_FIELDS[field];
    if (!build || !values) {
      unsupported.push(`from.source.${key}`);
      continue;
    }
    const built = values.map((v) => build(v, namespace, trustDomain));
    if (built.some((b) => b === undefined)) {
      unsupported.push(`from.source.${key} values`);
      continue;
    }
    const any = orPrincipals(built as Principal[]);
    ids.push(negate ? notPrincipal(any) : any);
  }
  return { value: ids.length ? andPrincipals(ids) : undefined, unsupported };
}

type SourceField = (v: string, namespace: string, trustDomain: string) => Principal | undefined;

const SOURCE_FIELDS: Record<string, SourceField> = {
  principals: (v) => authenticated(principalMatcher(v)),
  namespaces: (v) => authenticated(namespaceMatcher(v)),
  serviceAccounts: (v, namespace, trustDomain) => {
    const parts = v.split('/');
    if (parts.length > 2 || parts.some((p) => p === '' || p.includes('*'))) return undefined;
    const [ns, sa] = parts.length === 2 ? parts : [namespace, parts[0]];
    return authenticated(exact(`spiffe://${trustDomain}/ns/${ns}/sa/${sa}`));
  },
  ipBlocks: (v) => cidrPrincipal('directRemoteIp', v),
  remoteIpBlocks: (v) => cidrPrincipal('remoteIp', v),
  // `<iss>/<sub>` of a JWT the waypoint validated (RequestAuthentication), read from istio_authn.
  requestPrincipals: (v) =>
    metadataPrincipal(['request.auth.principal'], wildcardMatcher(v, '', false)),
};

// --- when -----------------------------------------------------------------------------------

function sourceCondition(c: AuthorizationCondition): Part<Principal> {
  const build: Record<string, (v: string) => Principal | undefined> = {
    'source.ip': (v) => cidrPrincipal('directRemoteIp', v),
    'remote.ip': (v) => cidrPrincipal('remoteIp', v),
    'source.namespace': (v) => authenticated(namespaceMatcher(v)),
    'source.principal': (v) => authenticated(principalMatcher(v)),
  };
  return condition(c, build[c.key]!, orPrincipals, notPrincipal, andPrincipals);
}

function requestCondition(c: AuthorizationCondition, tcp: boolean): Part<Permission> {
  const header = /^request\.headers\[(.+)\]$/.exec(c.key);
  let build: ((v: string) => Permission | undefined) | undefined;
  if (tcp && c.key.startsWith('request.')) build = undefined;
  else if (header) build = (v) => istioHeaderPermission(header[1]!.toLowerCase(), v);
  else if (c.key === 'destination.ip')
    build = (v) => {
      const range = cidrRange(v);
      return range && create(PermissionSchema, { rule: { case: 'destinationIp', value: range } });
    };
  else if (c.key === 'destination.port')
    build = (v) => {
      const port = portNumber(v);
      return port === undefined
        ? undefined
        : create(PermissionSchema, { rule: { case: 'destinationPort', value: port } });
    };
  else if (c.key.startsWith('request.auth.')) {
    const path = authPath(c.key);
    if (path)
      build = (v) =>
        create(PermissionSchema, {
          rule: {
            case: 'metadata',
            value: metadataMatcher(path.keys, wildcardMatcher(v, '', false), path.list),
          },
        });
  } else if (c.key === 'connection.sni')
    build = (v) =>
      create(PermissionSchema, {
        rule: { case: 'requestedServerName', value: wildcardMatcher(v, '', false) },
      });
  if (!build) return { unsupported: [`when ${c.key || '(no key)'}`] };
  return condition(c, build, orPermissions, notPermission, andPermissions);
}

function condition<T>(
  c: AuthorizationCondition,
  build: (v: string) => T | undefined,
  or: (xs: T[]) => T,
  not: (x: T) => T,
  and: (xs: T[]) => T,
): Part<T> {
  const values = c.values.length === 0 ? [] : stringList(c.values);
  const notValues = c.notValues.length === 0 ? [] : stringList(c.notValues);
  if (!values || !notValues || values.length + notValues.length === 0)
    return { unsupported: [`when ${c.key} without values`] };
  const pos = values.map(build);
  const neg = notValues.map(build);
  if ([...pos, ...neg].some((x) => x === undefined))
    return { unsupported: [`when ${c.key} values`] };
  const parts: T[] = [];
  if (pos.length) parts.push(or(pos as T[]));
  if (neg.length) parts.push(not(or(neg as T[])));
  return { value: and(parts), unsupported: [] };
}

// --- matchers -------------------------------------------------------------------------------

/** Istio's principal forms: exact, `*` (any authenticated peer), `prefix*`, `*suffix`. */
function principalMatcher(v: string): StringMatcher {
  const value = v.startsWith('spiffe://') ? v.slice('spiffe://'.length) : v;
  if (value === '*') return regex('.+');
  return wildcardMatcher(value, 'spiffe://', false);
}

/** A namespace (wildcards allowed) as a pattern on the peer's SPIFFE id. */
function namespaceMatcher(v: string): StringMatcher {
  const ns = v.split('*').map(escapeRegex).join('[^/]*');
  return regex(`spiffe://[^/]+/ns/${ns}/sa/[^/]+`);
}

/** `*` = any non-empty value, `x*` = prefix, `*x` = suffix, otherwise exact; `prefix` is put before the value. */
function wildcardMatcher(v: string, prefix: string, ignoreCase: boolean): StringMatcher {
  if (v === '*') return regex(`${escapeRegex(prefix)}.+`);
  if (v.endsWith('*'))
    return create(StringMatcherSchema, {
      matchPattern: { case: 'prefix', value: prefix + v.slice(0, -1) },
      ignoreCase,
    });
  if (v.startsWith('*'))
    return create(StringMatcherSchema, {
      matchPattern: { case: 'suffix', value: v.slice(1) },
      ignoreCase,
    });
  return create(StringMatcherSchema, {
    matchPattern: { case: 'exact', value: prefix + v },
    ignoreCase,
  });
}

function exact(value: string): StringMatcher {
  return create(StringMatcherSchema, { matchPattern: { case: 'exact', value } });
}

function regex(r: string): StringMatcher {
  return create(StringMatcherSchema, {
    matchPattern: { case: 'safeRegex', value: create(RegexMatcherSchema, { regex: r }) },
  });
}

function headerPermission(name: string, m: StringMatcher | 'present'): Permission {
  return create(PermissionSchema, {
    rule: {
      case: 'header',
      value: create(HeaderMatcherSchema, {
        name,
        headerMatchSpecifier:
          m === 'present'
            ? { case: 'presentMatch', value: true }
            : { case: 'stringMatch', value: m },
      }),
    },
  });
}

/**
 * A header as Istio matches it for methods and `request.headers[...]`: `*` = present (any value,
 * even empty), `*x` suffix, `x*` prefix, otherwise exact.
 */
function istioHeaderPermission(name: string, v: string): Permission {
  return headerPermission(name, v === '*' ? 'present' : wildcardMatcher(v, '', false));
}

function authenticated(m: StringMatcher): Principal {
  return create(PrincipalSchema, {
    identifier: {
      case: 'authenticated',
      value: create(Principal_AuthenticatedSchema, { principalName: m }),
    },
  });
}

/**
 * `request.auth.principal|audiences|presenter` and `request.auth.claims[a][b]` as a path into the
 * istio_authn metadata the waypoint's JWT filter writes (claims are lists of strings there).
 */
function authPath(key: string): { keys: string[]; list: boolean } | undefined {
  if (key === 'request.auth.principal' || key === 'request.auth.presenter')
    return { keys: [key], list: false };
  if (key === 'request.auth.audiences') return { keys: [key], list: true };
  const m = /^request\.auth\.claims((?:\[[^\][]+\])+)$/.exec(key);
  if (!m) return undefined;
  const parts = [...m[1]!.matchAll(/\[([^\][]+)\]/g)].map((x) => x[1]!);
  return { keys: ['request.auth.claims', ...parts], list: true };
}

/** Istio's authn metadata: filter "istio_authn", keys as written by the JWT filter. */
const ISTIO_AUTHN = 'istio_authn';

function metadataMatcher(keys: string[], m: StringMatcher, list: boolean): MetadataMatcher {
  const stringValue = create(ValueMatcherSchema, {
    matchPattern: { case: 'stringMatch', value: m },
  });
  return create(MetadataMatcherSchema, {
    filter: ISTIO_AUTHN,
    path: keys.map((key) =>
      create(MetadataMatcher_PathSegmentSchema, { segment: { case: 'key', value: key } }),
    ),
    value: list
      ? create(ValueMatcherSchema, {
          matchPattern: {
            case: 'listMatch',
            value: create(ListMatcherSchema, {
              matchPattern: { case: 'oneOf', value: stringValue },
            }),
          },
        })
      : stringValue,
  });
}

function metadataPrincipal(keys: string[], m: StringMatcher): Principal {
  return create(PrincipalSchema, {
    identifier: { case: 'metadata', value: metadataMatcher(keys, m, false) },
  });
}

function cidrPrincipal(kind: 'directRemoteIp' | 'remoteIp', v: string): Principal | undefined {
  const range = cidrRange(v);
  return range && create(PrincipalSchema, { identifier: { case: kind, value: range } });
}

function portNumber(v: string): number | undefined {
  if (!/^\d{1,5}$/.test(v)) return undefined;
  const n = Number(v);
  return n > 0 && n < 65536 ? n : undefined;
}

/** The values of a field, or undefined when there are none or one is empty (cannot be evaluated). */
function stringList(raw: readonly string[]): readonly string[] | undefined {
  return raw.length === 0 || raw.some((v) => v === '') ? undefined : raw;
}

// --- combinators ----------------------------------------------------------------------------

function anyPermission(): Permission {
  return create(PermissionSchema, { rule: { case: 'any', value: true } });
}
function anyPrincipal(): Principal {
  return create(PrincipalSchema, { identifier: { case: 'any', value: true } });
}
function orPermissions(xs: Permission[]): Permission {
  return xs.length === 1
    ? xs[0]!
    : create(PermissionSchema, {
        rule: { case: 'orRules', value: create(Permission_SetSchema, { rules: xs }) },
      });
}
function andPermissions(xs: Permission[]): Permission {
  return xs.length === 1
    ? xs[0]!
    : create(PermissionSchema, {
        rule: { case: 'andRules', value: create(Permission_SetSchema, { rules: xs }) },
      });
}
function notPermission(x: Permission): Permission {
  return create(PermissionSchema, { rule: { case: 'notRule', value: x } });
}
function orPrincipals(xs: Principal[]): Principal {
  return xs.length === 1
    ? xs[0]!
    : create(PrincipalSchema, {
        identifier: { case: 'orIds', value: create(Principal_SetSchema, { ids: xs }) },
      });
}
function andPrincipals(xs: Principal[]): Principal {
  return xs.length === 1
    ? xs[0]!
    : create(PrincipalSchema, {
        identifier: { case: 'andIds', value: create(Principal_SetSchema, { ids: xs }) },
      });
}
function notPrincipal(x: Principal): Principal {
  return create(PrincipalSchema, { identifier: { case: 'notId', value: x } });
}
