// istio.security.Authorization -> Authorization, or the reason it is refused. Pure.
//
// Stricter than upstream ztunnel, which silently drops an unset StringMatch or an address it cannot
// parse: dropping a value from `principals` or `source_ips` would widen what the policy matches, so
// such a policy is refused instead.
import type { Result } from '@trellis/core';
import type {
  Address as XdsCidr,
  Authorization as XdsAuthorization,
  Match as XdsMatch,
  StringMatch as XdsStringMatch,
} from '@trellis/api/gen/istio/security/authorization_pb.js';
import type { Authorization, Match, PolicyAction, PolicyScope, StringMatch } from '../model.js';
import { cidrField, convert, enumField, invalid, portField, requiredString } from './common.js';

const SCOPES: Record<number, PolicyScope> = { 0: 'Global', 1: 'Namespace', 2: 'WorkloadSelector' };
const ACTIONS: Record<number, PolicyAction> = { 0: 'Allow', 1: 'Deny' };

export function convertAuthorization(msg: XdsAuthorization): Result<Authorization> {
  return convert(() => {
    const name = requiredString(msg.name, 'name');
    const namespace = requiredString(msg.namespace, 'namespace');
    const where = (field: string) => `policy "${namespace}/${name}": ${field}`;
    const policy: Authorization = {
      name,
      namespace,
      scope: enumField(msg.scope, SCOPES, where('scope')),
      action: enumField(msg.action, ACTIONS, where('action')),
      rules: msg.rules.map((rule, r) =>
        rule.clauses.map((clause, c) =>
          clause.matches.map((m, i) =>
            convertMatch(m, where(`rules[${r}].clauses[${c}].matches[${i}]`)),
          ),
        ),
      ),
      dryRun: msg.dryRun,
    };
    return policy;
  });
}

function convertMatch(m: XdsMatch, at: string): Match {
  const strings = (list: readonly XdsStringMatch[], field: string) =>
    list.map((s, i) => stringMatch(s, `${at}.${field}[${i}]`));
  const cidrs = (list: readonly XdsCidr[], field: string) =>
    list.map((a, i) => cidrField(a.address, a.length, `${at}.${field}[${i}]`));
  const ports = (list: readonly number[], field: string) =>
    list.map((p, i) => portField(p, `${at}.${field}[${i}]`, { allowZero: true }));
  const accounts = (list: XdsMatch['serviceAccounts']) =>
    list.map((a) => ({ namespace: a.namespace, serviceAccount: a.serviceAccount }));
  return {
    namespaces: strings(m.namespaces, 'namespaces'),
    notNamespaces: strings(m.notNamespaces, 'not_namespaces'),
    serviceAccounts: accounts(m.serviceAccounts),
    notServiceAccounts: accounts(m.notServiceAccounts),
    principals: strings(m.principals, 'principals'),
    notPrincipals: strings(m.notPrincipals, 'not_principals'),
    sourceIps: cidrs(m.sourceIps, 'source_ips'),
    notSourceIps: cidrs(m.notSourceIps, 'not_source_ips'),
    destinationIps: cidrs(m.destinationIps, 'destination_ips'),
    notDestinationIps: cidrs(m.notDestinationIps, 'not_destination_ips'),
    destinationPorts: ports(m.destinationPorts, 'destination_ports'),
    notDestinationPorts: ports(m.notDestinationPorts, 'not_destination_ports'),
  };
}

function stringMatch(s: XdsStringMatch, field: string): StringMatch {
  const t = s.matchType;
  switch (t.case) {
    case 'exact':
      return { exact: t.value };
    case 'prefix':
      return { prefix: t.value };
    case 'suffix':
      return { suffix: t.value };
    case 'presence':
      return { presence: true };
    default:
      return invalid(field, 'no match type set (exact, prefix, suffix or presence)');
  }
}
