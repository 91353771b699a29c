// Envoy RBAC (envoy.config.rbac.v3.RBAC) compiled to predicates, with Envoy's semantics: a policy
// matches when any permission and any principal match; ALLOW allows only what some policy matches,
// DENY denies what some policy matches, LOG never denies. URI templates (Istio's path templates) are
// matched as Envoy does (uri-template.pure.ts). Anything Trellis cannot evaluate (CEL conditions,
// generic matchers, filter state) is refused: a policy silently losing a clause could allow more
// than written. Pure.
import {
  RBAC_Action,
  type Permission,
  type Principal,
  type RBAC,
} from '@trellis/api/gen/envoy/config/rbac/v3/rbac_pb.js';
import type { CidrRange } from '@trellis/api/gen/envoy/config/core/v3/address_pb.js';
import {
  UriTemplateMatchConfigSchema,
  type UriTemplateMatchConfig,
} from '@trellis/api/gen/envoy/extensions/path/match/uri_template/v3/uri_template_match_pb.js';
import { anyTypeName, invalid, unpackTyped } from '../convert/common.js';
import { headerMatcher, stringMatcher } from '../convert/matchers.js';
import { metadataMatcher } from '../convert/metadata.js';
import { cidrPredicate, type IpPredicate } from '../net/cidr.pure.js';
import type { AuthzInput, RbacResult } from './input.js';
import { compileUriTemplate, matchesUriTemplate } from './uri-template.pure.js';

type Check = (input: AuthzInput) => boolean;

export interface RbacPolicy {
  readonly name: string;
  readonly matches: Check;
}

export interface RbacEngine {
  readonly action: 'allow' | 'deny' | 'log';
  readonly policies: readonly RbacPolicy[];
  /** Whether any policy reads HTTP attributes (a TCP connection cannot satisfy those). */
  readonly usesHttp: boolean;
}

export function compileRbac(rbac: RBAC, field: string): RbacEngine {
  let action: RbacEngine['action'];
  switch (rbac.action) {
    case RBAC_Action.ALLOW:
      action = 'allow';
      break;
    case RBAC_Action.DENY:
      action = 'deny';
      break;
    case RBAC_Action.LOG:
      action = 'log';
      break;
    default:
      invalid(`${field}.action`, `unknown action ${String(rbac.action)}`);
  }
  const state = { http: false };
  const policies: RbacPolicy[] = [];
  for (const name of Object.keys(rbac.policies).sort()) {
    const p = rbac.policies[name]!;
    const f = `${field}.policies[${name}]`;
    if (p.condition || p.checkedCondition)
      invalid(`${f}.condition`, 'CEL conditions are not supported');
    if (p.permissions.length === 0)
      invalid(`${f}.permissions`, 'at least one permission is required');
    if (p.principals.length === 0) invalid(`${f}.principals`, 'at least one principal is required');
    const perms = p.permissions.map((x, i) => permission(x, `${f}.permissions[${i}]`, state));
    const princ = p.principals.map((x, i) => principal(x, `${f}.principals[${i}]`, state));
    policies.push({
      name,
      matches: (input) => perms.some((c) => c(input)) && princ.some((c) => c(input)),
    });
  }
  return { action, policies, usesHttp: state.http };
}

/** Evaluates one engine: the first matching policy decides (its name is reported). */
export function evaluateRbac(engine: RbacEngine, input: AuthzInput): RbacResult {
  let matched: string | undefined;
  for (const p of engine.policies) {
    if (p.matches(input)) {
      matched = p.name;
      break;
    }
  }
  switch (engine.action) {
    case 'allow':
      return matched !== undefined ? { allowed: true, policy: matched } : { allowed: false };
    case 'deny':
      return matched !== undefined ? { allowed: false, policy: matched } : { allowed: true };
    case 'log':
      return matched !== undefined ? { allowed: true, policy: matched } : { allowed: true };
  }
}

function ipRange(c: CidrRange, field: string): IpPredicate {
  try {
    return cidrPredicate(c.addressPrefix, c.prefixLen);
  } catch (err) {
    invalid(field, (err as Error).message);
  }
}

function permission(p: Permission, field: string, state: { http: boolean }): Check {
  const r = p.rule;
  switch (r.case) {
    case 'any':
      if (!r.value) invalid(`${field}.any`, 'must be true');
      return () => true;
    case 'andRules': {
      const all = r.value.rules.map((x, i) => permission(x, `${field}.and_rules[${i}]`, state));
      return (input) => all.every((c) => c(input));
    }
    case 'orRules': {
      const all = r.value.rules.map((x, i) => permission(x, `${field}.or_rules[${i}]`, state));
      return (input) => all.some((c) => c(input));
    }
    case 'notRule': {
      const inner = permission(r.value, `${field}.not_rule`, state);
      return (input) => !inner(input);
    }
    case 'header': {
      state.http = true;
      const m = headerMatcher(r.value, `${field}.header`);
      return (input) => input.headers !== undefined && m(input.headers);
    }
    case 'urlPath': {
      state.http = true;
      const pm = r.value.rule;
      if (pm.case !== 'path') invalid(`${field}.url_path`, 'only path matchers are supported');
      const m = stringMatcher(pm.value, `${field}.url_path.path`);
      return (input) => input.urlPath !== undefined && m(input.urlPath);
    }
    case 'uriTemplate': {
      state.http = true;
      const f = `${field}.uri_template`;
      const config = r.value.typedConfig;
      if (!config || anyTypeName(config) !== UriTemplateMatchConfigSchema.typeName)
        invalid(`${f}.typed_config`, `must be a ${UriTemplateMatchConfigSchema.typeName}`);
      const re = compileUriTemplate(
        (unpackTyped(config, `${f}.typed_config`) as UriTemplateMatchConfig).pathTemplate,
      );
      if (typeof re === 'string') invalid(`${f}.typed_config.path_template`, re);
      return (input) => input.urlPath !== undefined && matchesUriTemplate(re, input.urlPath);
    }
    case 'destinationIp': {
      const m = ipRange(r.value, `${field}.destination_ip`);
      return (input) => m(input.destinationIp);
    }
    case 'destinationPort': {
      const port = r.value;
      return (input) => input.destinationPort === port;
    }
    case 'destinationPortRange': {
      const { start, end } = r.value;
      return (input) => input.destinationPort >= start && input.destinationPort < end;
    }
    case 'metadata': {
      const m = metadataMatcher(r.value, `${field}.metadata`);
      return (input) => m(input.metadata);
    }
    case 'requestedServerName': {
      const m = stringMatcher(r.value, `${field}.requested_server_name`);
      return (input) => m(input.requestedServerName ?? '');
    }
    default:
      invalid(field, `permission ${String(r.case ?? '(none)')} is not supported`);
  }
}

function principal(p: Principal, field: string, state: { http: boolean }): Check {
  const r = p.identifier;
  switch (r.case) {
    case 'any':
      if (!r.value) invalid(`${field}.any`, 'must be true');
      return () => true;
    case 'andIds': {
      const all = r.value.ids.map((x, i) => principal(x, `${field}.and_ids[${i}]`, state));
      return (input) => all.every((c) => c(input));
    }
    case 'orIds': {
      const all = r.value.ids.map((x, i) => principal(x, `${field}.or_ids[${i}]`, state));
      return (input) => all.some((c) => c(input));
    }
    case 'notId': {
      const inner = principal(r.value, `${field}.not_id`, state);
      return (input) => !inner(input);
    }
    case 'authenticated': {
      // Without a principal_name, any authenticated (mutual TLS) peer.
      if (!r.value.principalName) return (input) => input.peerPrincipal !== undefined;
      const m = stringMatcher(r.value.principalName, `${field}.authenticated.principal_name`);
      return (input) => input.peerPrincipal !== undefined && m(input.peerPrincipal);
    }
    case 'sourceIp':
    case 'directRemoteIp': {
      const m = ipRange(
        r.value,
        `${field}.${r.case === 'sourceIp' ? 'source_ip' : 'direct_remote_ip'}`,
      );
      return (input) => m(input.directRemoteIp);
    }
    case 'remoteIp': {
      const m = ipRange(r.value, `${field}.remote_ip`);
      return (input) => m(input.remoteIp);
    }
    case 'header': {
      state.http = true;
      const m = headerMatcher(r.value, `${field}.header`);
      return (input) => input.headers !== undefined && m(input.headers);
    }
    case 'urlPath': {
      state.http = true;
      const pm = r.value.rule;
      if (pm.case !== 'path') invalid(`${field}.url_path`, 'only path matchers are supported');
      const m = stringMatcher(pm.value, `${field}.url_path.path`);
      return (input) => input.urlPath !== undefined && m(input.urlPath);
    }
    case 'metadata': {
      const m = metadataMatcher(r.value, `${field}.metadata`);
      return (input) => m(input.metadata);
    }
    default:
      invalid(field, `principal ${String(r.case ?? '(none)')} is not supported`);
  }
}
