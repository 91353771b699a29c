// Whether one authorization policy matches a connection, with upstream ztunnel's semantics:
// - a policy matches when ANY of its rules matches (no rules: never);
// - a rule matches when ALL of its clauses match (no clauses: always);
// - a clause matches when ANY of its matches matches (no matches: always); a match with every
//   field empty is skipped, so it never makes a clause match;
// - a match holds when every field it sets holds: a positive field when ANY value matches, a
//   not* field when NO value matches.
// Without an identity (plaintext) the principal and namespace are empty: `principals`, `namespaces`
// (except exact "") and `serviceAccounts` cannot match, their not* forms always do. Pure.
import { cidrContains } from '@trellis/core';
import type { Authorization, Match, StringMatch } from '../state/model.js';
import { principalOf, type ConnectionAttributes } from './connection.js';

export function policyMatches(policy: Authorization, conn: ConnectionAttributes): boolean {
  return policy.rules.some((rule) =>
    rule.every(
      (clause) =>
        clause.length === 0 || clause.some((m) => !isEmptyMatch(m) && matchHolds(m, conn)),
    ),
  );
}

export function stringMatches(m: StringMatch, value: string): boolean {
  if ('exact' in m) return value === m.exact;
  if ('prefix' in m) return value.startsWith(m.prefix);
  if ('suffix' in m) return value.endsWith(m.suffix);
  return value !== '';
}

function matchHolds(m: Match, conn: ConnectionAttributes): boolean {
  const id = conn.sourceIdentity;
  const principal = id ? principalOf(id) : '';
  const namespace = id?.namespace ?? '';
  return (
    field(m.destinationIps, m.notDestinationIps, (c) => cidrContains(c, conn.destinationIp)) &&
    field(m.sourceIps, m.notSourceIps, (c) => cidrContains(c, conn.sourceIp)) &&
    field(m.destinationPorts, m.notDestinationPorts, (p) => p === conn.destinationPort) &&
    field(
      m.serviceAccounts,
      m.notServiceAccounts,
      (sa) =>
        id !== undefined &&
        sa.namespace === id.namespace &&
        sa.serviceAccount === id.serviceAccount,
    ) &&
    // A principal is compared only when there is an identity, so no prefix or suffix can match a
    // plaintext peer.
    field(m.principals, m.notPrincipals, (s) => id !== undefined && stringMatches(s, principal)) &&
    field(m.namespaces, m.notNamespaces, (s) => stringMatches(s, namespace))
  );
}

function field<T>(
  positive: readonly T[],
  negative: readonly T[],
  test: (v: T) => boolean,
): boolean {
  return (
    (positive.length === 0 || positive.some(test)) &&
    (negative.length === 0 || !negative.some(test))
  );
}

function isEmptyMatch(m: Match): boolean {
  return Object.values(m).every((v: readonly unknown[]) => v.length === 0);
}
