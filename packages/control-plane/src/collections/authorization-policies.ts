// AuthorizationPolicies: parsed, scoped and sorted by who can enforce them.
import type { AuthorizationPolicy, AuthorizationRule } from '../model/istio-security.js';
import type { ResolvedMeshOptions } from '../model/options.js';
import type { AuthorizationPolicyInfo } from '../model/policy-info.js';
import { ANNOTATION_DRY_RUN } from '../model/well-known.js';
import { annotationsOf, compareStrings, nameOf, namespaceOf } from './meta.js';
import { groupBy } from './index-by.js';
import { isSubset, nonEmptyLabels } from './selector.js';

const ACTIONS = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const;

export function deriveAuthorizationPolicies(
  policies: readonly AuthorizationPolicy[],
  options: ResolvedMeshOptions,
): AuthorizationPolicyInfo[] {
  return policies
    .map((p) => authorizationPolicyInfo(p, options))
    .sort((a, b) => compareStrings(a.key, b.key));
}

/**
 * Scope follows Istio: a selector makes it WORKLOAD_SELECTOR (an empty selector counts as none),
 * else NAMESPACE, or GLOBAL in the root namespace. Policies with targetRefs belong to waypoints;
 * AUDIT and CUSTOM cannot be enforced by ztunnel.
 */
export function authorizationPolicyInfo(
  p: AuthorizationPolicy,
  options: ResolvedMeshOptions,
): AuthorizationPolicyInfo {
  const name = nameOf(p);
  const namespace = namespaceOf(p);
  const spec = p.spec;
  const selector = nonEmptyLabels(spec.selector);
  const targetRefs = spec.targetRefs;
  const rawAction = spec.action;
  const action = (ACTIONS as readonly string[]).includes(rawAction)
    ? (rawAction as AuthorizationPolicyInfo['action'])
    : undefined;
  const info: AuthorizationPolicyInfo = {
    name,
    namespace,
    key: `${namespace}/${name}`,
    action: action ?? 'ALLOW',
    scope: selector
      ? 'WORKLOAD_SELECTOR'
      : namespace === options.rootNamespace
        ? 'GLOBAL'
        : 'NAMESPACE',
    targetRefs,
    enforcedBy: 'ztunnel',
    dryRun: parseBool(annotationsOf(p)[ANNOTATION_DRY_RUN]),
    rules: spec.rulesProblem ? failClosedRules(action) : spec.rules,
  };
  if (selector) info.selector = selector;
  if (!action) {
    info.enforcedBy = 'none';
    info.problem = `unknown action "${rawAction}" (expected ALLOW, DENY, AUDIT or CUSTOM)`;
  } else if (targetRefs.length > 0) {
    info.enforcedBy = 'waypoint';
  } else if (action === 'AUDIT' || action === 'CUSTOM') {
    info.enforcedBy = 'none';
    info.problem = `ztunnel does not support the ${action} action`;
  }
  if (spec.rulesProblem) {
    const closed =
      action === 'ALLOW' || action === undefined
        ? 'it allows nothing'
        : 'it matches every request it selects';
    const problem = `${spec.rulesProblem}; the rules cannot be read, so ${closed} until they are fixed`;
    info.problem = info.problem ? `${info.problem}; ${problem}` : problem;
  }
  return info;
}

/** Rules that fail closed: none for ALLOW (allows nothing), one matching everything otherwise. */
function failClosedRules(action: string | undefined): AuthorizationRule[] {
  return action === 'ALLOW' || action === undefined ? [] : [{ from: [], to: [], when: [] }];
}

/** Go's strconv.ParseBool, as Istio reads `istio.io/dry-run`; anything else is false. */
function parseBool(value: string | undefined): boolean {
  return value !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value);
}

/** Answers "which selector-scoped policies select this workload?" (its namespace's and the root namespace's). */
export interface AuthorizationPolicyIndex {
  policiesFor(namespace: string, labels: Record<string, string>): string[];
}

export function authorizationPolicyIndex(
  infos: readonly AuthorizationPolicyInfo[],
  options: ResolvedMeshOptions,
): AuthorizationPolicyIndex {
  const byNamespace = groupBy(infos, (p) =>
    p.enforcedBy === 'ztunnel' && p.selector ? p.namespace : undefined,
  );
  return {
    policiesFor(namespace, labels) {
      const candidates = [...(byNamespace.get(namespace) ?? [])];
      if (namespace !== options.rootNamespace)
        candidates.push(...(byNamespace.get(options.rootNamespace) ?? []));
      return candidates
        .filter((p) => isSubset(p.selector!, labels))
        .map((p) => p.key)
        .sort(compareStrings);
    },
  };
}
