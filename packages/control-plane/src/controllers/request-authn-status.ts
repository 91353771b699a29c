// RequestAuthentication status: one WaypointAccepted condition, as for AuthorizationPolicies bound
// to waypoints (only waypoints validate JWTs; ztunnel does not). Bound by targetRefs (resolved as
// for AuthorizationPolicies) or by a selector matching a waypoint's pods; a policy bound nowhere
// says so (False). The jwtRules the waypoint cannot serve are named with the translator's own
// reason (`jwtRuleProblem`: no issuer, a JWKS that is not one, a jwksUri that is not a URL): all of
// them -> False Invalid, some -> True UnsupportedValue. Pure.
import type { MeshState } from '../collections/mesh-state.js';
import type { RequestAuthentication } from '../model/istio-security.js';
import type { WorkloadInfo } from '../model/workload-info.js';
import { LABEL_GATEWAY_NAME } from '../model/well-known.js';
import {
  jwtRuleProblem,
  selectedRequestAuthentications,
} from '../translate/envoy/request-authn.js';
import {
  condition,
  policyConditions,
  type Condition,
  type DesiredCondition,
} from './conditions.js';
import { waypointBinding } from './policy-status.js';

const CONDITIONS = ['WaypointAccepted'];

export function requestAuthenticationStatus(
  ra: RequestAuthentication,
  state: MeshState,
  now: string,
): { conditions: Condition[] } {
  return policyConditions(ra, [requestAuthenticationCondition(ra, state)], now, CONDITIONS);
}

export function requestAuthenticationCondition(
  ra: RequestAuthentication,
  state: MeshState,
): DesiredCondition {
  const ns = ra.metadata.namespace;
  let bound: string[];
  if (ra.spec.targetRefs.length > 0) {
    const b = waypointBinding(ra.spec.targetRefs, ns, state);
    if (!b.ok) return b.refused;
    bound = b.bound;
  } else {
    bound = selectingWaypoints(ra, state);
    if (bound.length === 0)
      return condition(
        'WaypointAccepted',
        false,
        'TargetNotFound',
        'no targetRefs, and no selector matching the pods of a waypoint: only waypoints validate JWTs (ztunnel does not), so this policy has no effect; bind it to a waypoint Gateway or a Service that uses one with targetRefs',
      );
  }
  const where = `bound to ${bound.join(', ')}`;
  const problems = ra.spec.jwtRules.flatMap((rule, i) => {
    const p = jwtRuleProblem(rule);
    return p ? [`jwtRules[${i}]: ${p}`] : [];
  });
  if (ra.spec.jwtRules.length > 0 && problems.length === ra.spec.jwtRules.length)
    return condition('WaypointAccepted', false, 'Invalid', `${where}; ${problems.join('; ')}`);
  return problems.length > 0
    ? condition('WaypointAccepted', true, 'UnsupportedValue', `${where}; ${problems.join('; ')}`)
    : condition('WaypointAccepted', true, 'Accepted', where);
}

/** Waypoints whose pods the policy's selector matches (what the waypoint translator applies). */
function selectingWaypoints(ra: RequestAuthentication, state: MeshState): string[] {
  const pods = new Map<string, WorkloadInfo[]>();
  for (const w of state.workloads.values()) {
    const gw = w.labels[LABEL_GATEWAY_NAME];
    if (!gw || !state.waypoints.has(`${w.namespace}/${gw}`)) continue;
    const key = `${w.namespace}/${gw}`;
    pods.set(key, [...(pods.get(key) ?? []), w]);
  }
  return [...pods]
    .filter(
      ([, list]) =>
        selectedRequestAuthentications([ra], state.options.rootNamespace, list).size > 0,
    )
    .map(([wp]) => wp)
    .sort();
}
