// RequestAuthentication -> one `envoy.filters.http.jwt_authn` filter for a waypoint filter chain,
// as Istio builds it: one provider per jwtRule, and one rule for every path that requires any of
// them or no token at all (a token that is present must be valid: 401; requiring a token is the
// job of an AuthorizationPolicy with requestPrincipals). The policies that apply are the ones an
// AuthorizationPolicy would take: targetRefs to the waypoint Gateway, the Service, the waypoint's
// GatewayClass in the root namespace, or a selector matching the waypoint's pods.
//
// jwksUri becomes remote_jwks (the waypoint fetches, caches and refreshes it; http_uri.cluster
// names the host for Envoy-style consumers); jwks becomes local_jwks. Pure.
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  JwtAuthenticationSchema,
  JwtProviderSchema,
  JwtRequirementSchema,
  type JwtProvider,
  type JwtRequirement,
} from '@trellis/api/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import {
  HttpFilterSchema,
  type HttpFilter,
} from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import { packAny } from '@trellis/api';
import { GATEWAY_GROUP } from '../../model/gateway-api.js';
import type { JwtRule, RequestAuthentication } from '../../model/istio-security.js';
import type { ServiceInfo } from '../../model/service-info.js';
import type { WaypointInfo } from '../../model/waypoint-info.js';
import type { WorkloadInfo } from '../../model/workload-info.js';
import { durationFromMs } from './duration.js';
import type { NoteSink } from './notes.js';
import { istioDurationMs } from './traffic-policy.js';
import { clip } from '@trellis/core';

export const JWT_AUTHN_FILTER = 'envoy.filters.http.jwt_authn';

/** Istio's default JWKS fetch timeout and cache duration. */
const JWKS_TIMEOUT_MS = 5_000;
const JWKS_CACHE_MS = 20 * 60_000;

export function jwtAuthnFilter(
  policies: readonly RequestAuthentication[],
  notes: NoteSink,
): HttpFilter | undefined {
  const providers: Record<string, JwtProvider> = {};
  const names: string[] = [];
  for (const p of policies) {
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    p.spec.jwtRules.forEach((rule, i) => {
      const provider = jwtProvider(rule, key, i, notes);
      if (!provider) return;
      const name = `${key}-${i}`;
      providers[name] = provider;
      names.push(name);
    });
  }
  if (names.length === 0) return undefined;
  const requirement = create(JwtRequirementSchema, {
    requiresType: {
      case: 'requiresAny',
      value: {
        requirements: [
          ...names.map((n) =>
            create(JwtRequirementSchema, { requiresType: { case: 'providerName', value: n } }),
          ),
          create(JwtRequirementSchema, {
            requiresType: { case: 'allowMissing', value: create(EmptySchema) },
          }),
        ] as JwtRequirement[],
      },
    },
  });
  const config = create(JwtAuthenticationSchema, {
    providers,
    rules: [
      {
        match: { pathSpecifier: { case: 'prefix', value: '/' } },
        requirementType: { case: 'requires', value: requirement },
      },
    ],
  });
  return create(HttpFilterSchema, {
    name: JWT_AUTHN_FILTER,
    configType: { case: 'typedConfig', value: packAny(JwtAuthenticationSchema, config) },
  });
}

/**
 * Why a jwtRule cannot be served (it is then left out: tokens of its issuer fail), or undefined.
 * The same answer goes into the RequestAuthentication's status.
 */
export function jwtRuleProblem(rule: JwtRule): string | undefined {
  if (!rule.issuer) return 'issuer is required; rule ignored';
  if (rule.jwks) {
    const bad = jwksProblem(rule.jwks);
    return (
      bad && `jwks is not a JSON Web Key Set (${bad}); rule ignored (tokens of this issuer fail)`
    );
  }
  if (rule.jwksUri) {
    if (!URL.canParse(rule.jwksUri))
      return `jwksUri "${clip(rule.jwksUri, 256)}" is not a URL; rule ignored (tokens of this issuer fail)`;
    return undefined;
  }
  return 'neither jwks nor jwksUri is set (Istio would discover it from the issuer); rule ignored';
}

/** What is wrong with an inline JWKS (RFC 7517: an object with a `keys` list of keys with `kty`). */
function jwksProblem(text: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'not a JSON object';
  const keys = (doc as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return 'no "keys" list';
  if (keys.length === 0) return '"keys" is empty';
  const i = keys.findIndex(
    (k) => typeof k !== 'object' || k === null || typeof (k as { kty?: unknown }).kty !== 'string',
  );
  return i === -1 ? undefined : `keys[${i}] has no "kty"`;
}

function jwtProvider(
  rule: JwtRule,
  policy: string,
  i: number,
  notes: NoteSink,
): JwtProvider | undefined {
  const problem = jwtRuleProblem(rule);
  if (problem) {
    notes.add('RequestAuthentication', policy, `jwtRules[${i}]: ${problem}`);
    return undefined;
  }
  let jwks: MessageInitShape<typeof JwtProviderSchema>['jwksSourceSpecifier'];
  if (rule.jwks) {
    jwks = { case: 'localJwks', value: { specifier: { case: 'inlineString', value: rule.jwks } } };
  } else {
    const url = new URL(rule.jwksUri!);
    const timeout = istioDurationMs(rule.timeout) ?? JWKS_TIMEOUT_MS;
    jwks = {
      case: 'remoteJwks',
      value: {
        httpUri: {
          uri: rule.jwksUri,
          httpUpstreamType: { case: 'cluster', value: `jwks|${url.host}` },
          timeout: durationFromMs(timeout),
        },
        cacheDuration: durationFromMs(JWKS_CACHE_MS),
      },
    };
  }
  return create(JwtProviderSchema, {
    issuer: rule.issuer,
    audiences: [...rule.audiences],
    jwksSourceSpecifier: jwks,
    forward: rule.forwardOriginalToken,
    fromHeaders: rule.fromHeaders.map((h) => ({ name: h.name, valuePrefix: h.prefix })),
    fromParams: [...rule.fromParams],
    fromCookies: [...rule.fromCookies],
    forwardPayloadHeader: rule.outputPayloadToHeader ?? '',
    claimToHeaders: rule.outputClaimToHeaders.map((c) => ({
      headerName: c.header,
      claimName: c.claim,
    })),
    payloadInMetadata: rule.issuer,
  });
}

/**
 * RequestAuthentications for `service` on `waypoint` (none: its workload-addressed traffic), chosen as AuthorizationPolicies are:
 * targetRefs to the waypoint Gateway, the Service or the GatewayClass (root namespace), or a
 * selector matching the waypoint's pods (`selected`, keys `<ns>/<name>`).
 */
export function requestAuthenticationsFor(
  policies: readonly RequestAuthentication[],
  rootNamespace: string,
  waypoint: WaypointInfo,
  service: ServiceInfo | undefined,
  selected: ReadonlySet<string>,
): RequestAuthentication[] {
  return policies.filter((p) => {
    const ns = p.metadata.namespace;
    if (selected.has(`${ns}/${p.metadata.name}`)) return true;
    return p.spec.targetRefs.some((ref) => {
      if (ref.namespace !== undefined && ref.namespace !== ns) return false;
      if (ref.kind === 'Gateway' && ref.group === GATEWAY_GROUP)
        return ns === waypoint.namespace && ref.name === waypoint.name;
      if (ref.kind === 'GatewayClass' && ref.group === GATEWAY_GROUP)
        return ns === rootNamespace && ref.name === waypoint.gatewayClassName;
      if (ref.kind === 'Service' && ref.group === '')
        return ns === service?.namespace && ref.name === service.name;
      return false;
    });
  });
}

/** Keys of the RequestAuthentications whose selector matches one of `pods` (the waypoint's). */
export function selectedRequestAuthentications(
  policies: readonly RequestAuthentication[],
  rootNamespace: string,
  pods: Iterable<WorkloadInfo>,
): Set<string> {
  const out = new Set<string>();
  const list = [...pods];
  for (const p of policies) {
    const labels = p.spec.selector?.matchLabels ?? {};
    if (Object.keys(labels).length === 0) continue;
    const ns = p.metadata.namespace;
    if (
      list.some(
        (w) =>
          (ns === w.namespace || ns === rootNamespace) &&
          Object.entries(labels).every(([k, v]) => w.labels[k] === v),
      )
    )
      out.add(`${ns}/${p.metadata.name}`);
  }
  return out;
}
