// AuthorizationPolicy -> istio.security.Authorization (the L4 subset ztunnel enforces).
//
// Shape: policy rules are alternatives; each rule's `to`, `from` and every `when` condition becomes
// one clause (all must match); the entries of a `to`/`from` list are the clause's alternative matches.
//
// ztunnel cannot see HTTP, so attributes it cannot evaluate (methods, paths, hosts, request
// principals, remote IPs, non-L4 `when` keys, unknown fields, values that do not parse) must never
// make a policy weaker than written:
// - ALLOW: a rule using any of them is dropped, so it allows nothing (Istio does the same).
// - DENY: those attributes are left out, so the rule denies more than asked. Where an entry had
//   nothing else, the whole clause is treated as always true. (Istio instead emits an empty match,
//   which ztunnel skips, so such a DENY rule silently stops denying; Trellis errs on denying.)
// An empty `from.source`, `to.operation` or a condition without values is invalid in Istio and is
// treated the same way as an attribute ztunnel cannot evaluate.
import { create } from '@bufbuild/protobuf';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import {
  Action,
  AddressSchema,
  AuthorizationSchema,
  ClauseSchema,
  MatchSchema,
  RuleSchema,
  Scope,
  ServiceAccountMatchSchema,
  StringMatchSchema,
  type Address,
  type Authorization,
  type Clause,
  type Match,
  type Rule,
  type ServiceAccountMatch,
  type StringMatch,
} from '@trellis/api/gen/istio/security/authorization_pb.js';
import { ipBytes } from '../collections/ip-text.js';
import type {
  AuthorizationCondition,
  AuthorizationFields,
  AuthorizationRule,
} from '../model/istio-security.js';
import type { AuthorizationPolicyInfo } from '../model/policy-info.js';

export interface AuthorizationTranslation {
  /** Undefined when ztunnel does not enforce the policy (waypoint-bound or unsupported). */
  authorization?: Authorization;
  /** What was left out or could not be enforced, for status and logs. */
  warnings: string[];
}

/** The plain fields of a Match before it becomes a protobuf message. */
type MatchFields = Partial<Omit<Match, '$typeName' | '$unknown'>>;

/** One `to`/`from` entry or `when` condition after translation. */
interface Alternative {
  match: MatchFields;
  /** Attributes (or invalid values) ztunnel cannot evaluate. */
  unsupported: string[];
}

const SOURCE_L4 = new Set([
  'principals',
  'notPrincipals',
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
  'ipBlocks',
  'notIpBlocks',
]);
const OPERATION_L4 = new Set(['ports', 'notPorts']);
const WHEN_L4 = new Set([
  'source.ip',
  'source.namespace',
  'source.principal',
  'destination.ip',
  'destination.port',
]);

export function authorizationFromPolicy(p: AuthorizationPolicyInfo): AuthorizationTranslation {
  if (p.enforcedBy !== 'ztunnel') return { warnings: p.problem ? [p.problem] : [] };
  // A policy whose rules could not be read is enforced with rules that fail closed (collections).
  const problems = p.problem ? [p.problem] : [];
  const deny = p.action === 'DENY';
  const unsupported = new Set<string>();
  const rules: Rule[] = [];
  for (const rule of p.rules) {
    const alternativesByClause = ruleClauses(rule, p.namespace);
    const found = alternativesByClause.flatMap((alts) => alts.flatMap((a) => a.unsupported));
    found.forEach((f) => unsupported.add(f));
    if (found.length > 0 && !deny) continue;
    rules.push(
      create(RuleSchema, { clauses: alternativesByClause.flatMap((alts) => clauseOf(alts)) }),
    );
  }
  const warnings: string[] = [...problems];
  if (unsupported.size > 0) {
    const list = [...unsupported].sort().join(', ');
    warnings.push(
      deny
        ? `ztunnel cannot enforce ${list}; this DENY policy is enforced without them and denies more than written. Use a waypoint (targetRefs) for L7 rules.`
        : `ztunnel cannot enforce ${list}; rules of this ALLOW policy that use them allow nothing. Use a waypoint (targetRefs) for L7 rules.`,
    );
  }
  const authorization = create(AuthorizationSchema, {
    name: p.name,
    namespace: p.namespace,
    scope: Scope[p.scope],
    action: deny ? Action.DENY : Action.ALLOW,
    rules,
    dryRun: p.dryRun,
  });
  return { authorization, warnings };
}

/** An always-true clause is omitted; otherwise its alternatives are its matches. */
function clauseOf(alternatives: Alternative[]): Clause[] {
  if (alternatives.some((a) => isEmpty(a.match))) return [];
  return [create(ClauseSchema, { matches: alternatives.map((a) => create(MatchSchema, a.match)) })];
}

function isEmpty(m: MatchFields): boolean {
  return Object.values(m).every((v) => !Array.isArray(v) || v.length === 0);
}

function ruleClauses(rule: AuthorizationRule, namespace: string): Alternative[][] {
  const clauses: Alternative[][] = [];
  if (rule.to.length) clauses.push(rule.to.map((t) => operationAlternative(t.operation)));
  if (rule.from.length) clauses.push(rule.from.map((f) => sourceAlternative(f.source, namespace)));
  for (const when of rule.when) clauses.push([conditionAlternative(when)]);
  return clauses;
}

function operationAlternative(op: AuthorizationFields): Alternative {
  const unsupported = unknownFields(op, OPERATION_L4);
  if (!hasValues(op)) unsupported.push('empty to.operation');
  return {
    match: {
      destinationPorts: ports(op.ports, 'ports', unsupported),
      notDestinationPorts: ports(op.notPorts, 'notPorts', unsupported),
    },
    unsupported,
  };
}

function sourceAlternative(src: AuthorizationFields, namespace: string): Alternative {
  const unsupported = unknownFields(src, SOURCE_L4);
  if (!hasValues(src)) unsupported.push('empty from.source');
  return {
    match: {
      sourceIps: ipBlocks(src.ipBlocks, 'ipBlocks', unsupported),
      notSourceIps: ipBlocks(src.notIpBlocks, 'notIpBlocks', unsupported),
      namespaces: stringMatches(src.namespaces),
      notNamespaces: stringMatches(src.notNamespaces),
      serviceAccounts: serviceAccounts(src.serviceAccounts, namespace),
      notServiceAccounts: serviceAccounts(src.notServiceAccounts, namespace),
      principals: stringMatches(src.principals),
      notPrincipals: stringMatches(src.notPrincipals),
    },
    unsupported,
  };
}

function conditionAlternative(when: AuthorizationCondition): Alternative {
  const key = when.key;
  if (!WHEN_L4.has(key)) return { match: {}, unsupported: [`when ${key || '(no key)'}`] };
  const label = `when ${key}`;
  const unsupported: string[] =
    list(when.values).length + list(when.notValues).length === 0 ? [`${label} without values`] : [];
  const match: MatchFields = {};
  switch (key) {
    case 'source.ip':
      match.sourceIps = ipBlocks(when.values, label, unsupported);
      match.notSourceIps = ipBlocks(when.notValues, label, unsupported);
      break;
    case 'destination.ip':
      match.destinationIps = ipBlocks(when.values, label, unsupported);
      match.notDestinationIps = ipBlocks(when.notValues, label, unsupported);
      break;
    case 'destination.port':
      match.destinationPorts = ports(when.values, label, unsupported);
      match.notDestinationPorts = ports(when.notValues, label, unsupported);
      break;
    case 'source.namespace':
      match.namespaces = stringMatches(when.values);
      match.notNamespaces = stringMatches(when.notValues);
      break;
    case 'source.principal':
      match.principals = stringMatches(when.values);
      match.notPrincipals = stringMatches(when.notValues);
      break;
  }
  return { match, unsupported };
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
}

function hasValues(obj: AuthorizationFields): boolean {
  return Object.values(obj).some(present);
}

/** Non-empty fields outside the L4 set. */
function unknownFields(obj: AuthorizationFields, l4: ReadonlySet<string>): string[] {
  return Object.entries(obj)
    .filter(([k, v]) => !l4.has(k) && present(v))
    .map(([k]) => k);
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** Istio's wildcard rules: `*` any non-empty value, `*x` suffix, `x*` prefix, else exact. */
export function stringMatch(v: string): StringMatch {
  if (v === '*')
    return create(StringMatchSchema, {
      matchType: { case: 'presence', value: create(EmptySchema) },
    });
  if (v.startsWith('*'))
    return create(StringMatchSchema, { matchType: { case: 'suffix', value: v.slice(1) } });
  if (v.endsWith('*'))
    return create(StringMatchSchema, { matchType: { case: 'prefix', value: v.slice(0, -1) } });
  return create(StringMatchSchema, { matchType: { case: 'exact', value: v } });
}

function stringMatches(value: unknown): StringMatch[] {
  return list(value).map(stringMatch);
}

/** `<ns>/<sa>`, or `<sa>` in the policy's namespace. */
function serviceAccounts(value: unknown, namespace: string): ServiceAccountMatch[] {
  return list(value).map((v) => {
    const slash = v.indexOf('/');
    return slash >= 0
      ? create(ServiceAccountMatchSchema, {
          namespace: v.slice(0, slash),
          serviceAccount: v.slice(slash + 1),
        })
      : create(ServiceAccountMatchSchema, { namespace, serviceAccount: v });
  });
}

function ports(value: unknown, field: string, unsupported: string[]): number[] {
  const out: number[] = [];
  for (const v of list(value)) {
    const n = Number(v);
    if (/^\d+$/.test(v) && n <= 65535) out.push(n);
    else unsupported.push(`${field} "${v}" (not a port number)`);
  }
  return out;
}

/** An IP is a host-length prefix; a CIDR keeps its length (the address is used as written). */
function ipBlocks(value: unknown, field: string, unsupported: string[]): Address[] {
  const out: Address[] = [];
  for (const v of list(value)) {
    const [ip, len, extra] = v.split('/');
    const bytes = ipBytes(ip ?? '');
    const max = bytes ? bytes.length * 8 : 0;
    const length = len === undefined ? max : /^\d+$/.test(len) ? Number(len) : NaN;
    if (!bytes || extra !== undefined || !(length >= 0 && length <= max)) {
      unsupported.push(`${field} "${v}" (not an IP address or CIDR)`);
      continue;
    }
    out.push(create(AddressSchema, { address: bytes, length }));
  }
  return out;
}
