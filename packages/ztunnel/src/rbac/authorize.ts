// L4 authorization of one connection against the policies that apply to its destination workload
// (StateStore.policiesFor), in Istio's order:
//   1. any DENY policy matches -> deny;
//   2. no ALLOW policy applies -> allow;
//   3. any ALLOW policy matches -> allow;
//   4. otherwise -> deny.
// Dry-run policies never change the decision; they are evaluated and reported, with the decision
// the connection would get if they were enforced too. Pure.
import { policyKey, type Authorization } from '../state/model.js';
import type { ConnectionAttributes } from './connection.js';
import { policyMatches } from './match.js';

export type DecisionReason =
  /** A DENY policy matched (`policy` names it). */
  | 'denied'
  /** ALLOW policies apply and none matched. */
  | 'not-allowed'
  /** An ALLOW policy matched (`policy` names it). */
  | 'allowed'
  /** No ALLOW policy applies (and no DENY matched). */
  | 'no-allow-policies';

export interface Decision {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  /** Key ("<namespace>/<name>") of the policy that decided, for 'denied' and 'allowed'. */
  readonly policy?: string;
  /** Present when dry-run policies apply to the workload. */
  readonly dryRun?: {
    /** Keys of the dry-run policies that matched. */
    readonly matched: readonly string[];
    /** The decision if the dry-run policies were enforced as well. */
    readonly wouldAllow: boolean;
    readonly wouldPolicy?: string;
  };
}

export function authorize(
  policies: readonly Authorization[],
  conn: ConnectionAttributes,
): Decision {
  const enforced = decide(
    policies.filter((p) => !p.dryRun),
    conn,
  );
  const dryRun = policies.filter((p) => p.dryRun);
  if (dryRun.length === 0) return enforced;
  const all = decide(policies, conn);
  return {
    ...enforced,
    dryRun: {
      matched: dryRun.filter((p) => policyMatches(p, conn)).map(policyKey),
      wouldAllow: all.allowed,
      ...(all.policy !== undefined ? { wouldPolicy: all.policy } : {}),
    },
  };
}

function decide(policies: readonly Authorization[], conn: ConnectionAttributes): Decision {
  const deny = policies.find((p) => p.action === 'Deny' && policyMatches(p, conn));
  if (deny) return { allowed: false, reason: 'denied', policy: policyKey(deny) };
  const allows = policies.filter((p) => p.action === 'Allow');
  if (allows.length === 0) return { allowed: true, reason: 'no-allow-policies' };
  const allow = allows.find((p) => policyMatches(p, conn));
  if (allow) return { allowed: true, reason: 'allowed', policy: policyKey(allow) };
  return { allowed: false, reason: 'not-allowed' };
}
