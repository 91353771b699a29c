// security.istio.io AuthorizationPolicy, PeerAuthentication and RequestAuthentication: raw objects -> typed records
// (model/istio-security.ts). Metadata, selector, targetRefs and action of the wrong type reject the
// object. Rules or mTLS modes of the wrong type do not: dropping a policy would weaken security, so
// the policy is kept and fails closed, and the problem is reported with it. Pure.
import type {
  AuthorizationCondition,
  AuthorizationFields,
  AuthorizationPolicy,
  AuthorizationRule,
  JwtRule,
  PeerAuthentication,
  PolicyTargetReference,
  RequestAuthentication,
  WorkloadSelector,
} from '../../model/istio-security.js';
import { statusCondition } from './gateway-api.js';
import { checkMeta } from './meta.js';
import {
  lenient,
  lenientList,
  list,
  map,
  name,
  optBool,
  optMap,
  optStr,
  ShapeError,
  str,
  stringMap,
  strings,
  type Fields,
  type Read,
} from './reader.js';

function selector(spec: Fields): WorkloadSelector | undefined {
  if (spec.selector === undefined || spec.selector === null) return undefined;
  const m = map(spec.selector, 'spec.selector');
  return { matchLabels: stringMap(m.matchLabels, 'spec.selector.matchLabels') };
}

const targetRef: Read<PolicyTargetReference> = (v, path) => {
  const m = map(v, path);
  const ref: { -readonly [K in keyof PolicyTargetReference]: PolicyTargetReference[K] } = {
    group: optStr(m.group, `${path}.group`) ?? '',
    kind: name(m.kind, `${path}.kind`),
    name: name(m.name, `${path}.name`),
  };
  if (ref.group === 'core') ref.group = '';
  const namespace = optStr(m.namespace, `${path}.namespace`);
  if (namespace) ref.namespace = namespace;
  const sectionName = optStr(m.sectionName, `${path}.sectionName`);
  if (sectionName) ref.sectionName = sectionName;
  return ref;
};

/** `targetRefs` followed by the deprecated `targetRef`. */
function targetRefsOf(spec: Fields): PolicyTargetReference[] {
  const refs = list(spec.targetRefs, 'spec.targetRefs', targetRef);
  if (spec.targetRef !== undefined && spec.targetRef !== null)
    refs.push(targetRef(spec.targetRef, 'spec.targetRef'));
  return refs;
}

/** A `source` or `operation`: every field a list of strings (unknown fields kept by name). */
const fields: Read<AuthorizationFields> = (v, path) => {
  const m = optMap(v, path);
  return Object.fromEntries(Object.entries(m).map(([k, x]) => [k, strings(x, `${path}.${k}`)]));
};

const condition: Read<AuthorizationCondition> = (v, path) => {
  const m = map(v, path);
  return {
    key: str(m.key, `${path}.key`),
    values: strings(m.values, `${path}.values`),
    notValues: strings(m.notValues, `${path}.notValues`),
  };
};

const rule: Read<AuthorizationRule> = (v, path) => {
  const m = optMap(v, path);
  return {
    from: list(m.from, `${path}.from`, (x, p) => ({
      source: fields(optMap(x, p).source, `${p}.source`),
    })),
    to: list(m.to, `${path}.to`, (x, p) => ({
      operation: fields(optMap(x, p).operation, `${p}.operation`),
    })),
    when: list(m.when, `${path}.when`, condition),
  };
};

export function toAuthorizationPolicy(o: Fields): AuthorizationPolicy {
  const metadata = checkMeta(o, true);
  const spec = optMap(o.spec, 'spec');
  const targetRefs = targetRefsOf(spec);
  const provider = optMap(spec.provider, 'spec.provider');
  let rules: AuthorizationRule[] = [];
  let rulesProblem: string | undefined;
  try {
    rules = list(spec.rules, 'spec.rules', rule);
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    rulesProblem = err.message;
  }
  const out: AuthorizationPolicy = {
    metadata,
    spec: {
      selector: selector(spec),
      targetRefs,
      action: optStr(spec.action, 'spec.action') || 'ALLOW',
      provider:
        spec.provider === undefined || spec.provider === null
          ? undefined
          : { name: optStr(provider.name, 'spec.provider.name') ?? '' },
      rules,
      rulesProblem,
    },
    status: { conditions: statusConditions(o) },
  };
  for (const k of ['selector', 'provider', 'rulesProblem'] as const)
    if (out.spec[k] === undefined) delete (out.spec as Record<string, unknown>)[k];
  return out;
}

export function toPeerAuthentication(o: Fields): PeerAuthentication {
  const metadata = checkMeta(o, true);
  const spec = optMap(o.spec, 'spec');
  const sel = selector(spec);
  try {
    const mode = optStr(optMap(spec.mtls, 'spec.mtls').mode, 'spec.mtls.mode') ?? '';
    const ports = optMap(spec.portLevelMtls, 'spec.portLevelMtls');
    const portLevelMtls = Object.fromEntries(
      Object.entries(ports).map(([port, v]) => [
        port,
        optStr(
          optMap(v, `spec.portLevelMtls["${port}"]`).mode,
          `spec.portLevelMtls["${port}"].mode`,
        ) ?? '',
      ]),
    );
    return { metadata, spec: { ...(sel ? { selector: sel } : {}), mode, portLevelMtls } };
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    return {
      metadata,
      spec: {
        ...(sel ? { selector: sel } : {}),
        mode: 'STRICT',
        portLevelMtls: {},
        modeProblem: err.message,
      },
    };
  }
}

const jwtRule: Read<JwtRule> = (v, path) => {
  const m = map(v, path);
  const rule: { -readonly [K in keyof JwtRule]: JwtRule[K] } = {
    issuer: optStr(m.issuer, `${path}.issuer`) ?? '',
    audiences: strings(m.audiences, `${path}.audiences`),
    fromHeaders: list(m.fromHeaders, `${path}.fromHeaders`, (h, p) => {
      const x = map(h, p);
      return { name: name(x.name, `${p}.name`), prefix: optStr(x.prefix, `${p}.prefix`) ?? '' };
    }),
    fromParams: strings(m.fromParams, `${path}.fromParams`),
    fromCookies: strings(m.fromCookies, `${path}.fromCookies`),
    forwardOriginalToken: optBool(m.forwardOriginalToken, `${path}.forwardOriginalToken`) ?? false,
    outputClaimToHeaders: list(m.outputClaimToHeaders, `${path}.outputClaimToHeaders`, (h, p) => {
      const x = map(h, p);
      return { header: name(x.header, `${p}.header`), claim: name(x.claim, `${p}.claim`) };
    }),
  };
  const jwksUri = optStr(m.jwksUri, `${path}.jwksUri`);
  if (jwksUri) rule.jwksUri = jwksUri;
  const jwks = optStr(m.jwks, `${path}.jwks`);
  if (jwks) rule.jwks = jwks;
  const payload = optStr(m.outputPayloadToHeader, `${path}.outputPayloadToHeader`);
  if (payload) rule.outputPayloadToHeader = payload;
  const timeout = optStr(m.timeout, `${path}.timeout`);
  if (timeout) rule.timeout = timeout;
  return rule;
};

/**
 * A RequestAuthentication of the wrong shape is rejected (naming the field): unlike an
 * AuthorizationPolicy, leaving it out cannot let a request through that it would refuse, since
 * requiring a token is an AuthorizationPolicy's job (a present invalid token is what it refuses).
 */
export function toRequestAuthentication(o: Fields): RequestAuthentication {
  const metadata = checkMeta(o, true);
  const spec = optMap(o.spec, 'spec');
  const targetRefs = targetRefsOf(spec);
  const sel = selector(spec);
  return {
    metadata,
    spec: {
      ...(sel ? { selector: sel } : {}),
      targetRefs,
      jwtRules: list(spec.jwtRules, 'spec.jwtRules', jwtRule),
    },
    status: { conditions: statusConditions(o) },
  };
}

/** `status.conditions`, read leniently (entries that do not fit are left out). */
function statusConditions(o: Fields) {
  const status = lenient(() => optMap(o.status, 'status')) ?? {};
  return lenientList(status.conditions, 'status.conditions', statusCondition);
}
