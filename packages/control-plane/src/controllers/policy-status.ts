// AuthorizationPolicy status, as Istio writes it: `status.conditions` with ZtunnelAccepted for
// policies ztunnel enforces (reason UnsupportedValue with the translator's warning when part of it
// cannot be enforced) and WaypointAccepted for policies bound to waypoints by targetRefs (False
// for CUSTOM: no ext_authz provider exists here, so the waypoint denies what it matches). Pure.
import type { MeshState } from '../collections/mesh-state.js';
import type { AuthorizationPolicy, PolicyTargetReference } from '../model/istio-security.js';
import type { AuthorizationPolicyInfo } from '../model/policy-info.js';
import type { TranslationNote } from '../translate/index.js';
import {
  condition,
  policyConditions,
  type Condition,
  type DesiredCondition,
} from './conditions.js';

const POLICY_CONDITIONS = ['ZtunnelAccepted', 'WaypointAccepted'];

export function policyStatus(
  policy: AuthorizationPolicy,
  info: AuthorizationPolicyInfo,
  notes: readonly TranslationNote[],
  state: MeshState,
  now: string,
): { conditions: Condition[] } {
  return policyConditions(policy, [policyCondition(info, notes, state)], now, POLICY_CONDITIONS);
}

export function policyCondition(
  info: AuthorizationPolicyInfo,
  notes: readonly TranslationNote[],
  state: MeshState,
): DesiredCondition {
  if (info.enforcedBy === 'waypoint') return waypointAccepted(info, state);
  if (info.enforcedBy === 'none')
    return condition(
      'ZtunnelAccepted',
      false,
      'UnsupportedValue',
      info.problem ?? 'not enforced by ztunnel',
    );
  const warnings = notes
    .filter((n) => n.kind === 'AuthorizationPolicy' && n.object === info.key)
    .map((n) => n.message);
  return warnings.length > 0
    ? condition('ZtunnelAccepted', true, 'UnsupportedValue', warnings.join(' '))
    : condition('ZtunnelAccepted', true, 'Accepted', 'attached to ztunnel');
}

function waypointAccepted(info: AuthorizationPolicyInfo, state: MeshState): DesiredCondition {
  const b = waypointBinding(info.targetRefs, info.namespace, state);
  if (!b.ok) return b.refused;
  const where = `bound to ${b.bound.join(', ')}`;
  if (info.action === 'CUSTOM')
    return condition(
      'WaypointAccepted',
      false,
      'UnsupportedValue',
      `${where}; action CUSTOM needs an ext_authz provider (meshConfig extensionProviders), which Trellis does not support: the policy is not enforced as written, and the requests its rules match are denied (fail closed). Use ALLOW or DENY rules instead.`,
    );
  return info.problem
    ? condition('WaypointAccepted', true, 'UnsupportedValue', `${where}; ${info.problem}`)
    : condition('WaypointAccepted', true, 'Accepted', where);
}

/**
 * The waypoints a policy's targetRefs bind it to (a Gateway that is a waypoint, a Service using
 * one, a GatewayClass), or the WaypointAccepted=False condition saying which reference fails.
 */
export function waypointBinding(
  targetRefs: readonly PolicyTargetReference[],
  namespace: string,
  state: MeshState,
): { ok: true; bound: string[] } | { ok: false; refused: DesiredCondition } {
  const bound: string[] = [];
  const refused = (reason: string, message: string) => ({
    ok: false as const,
    refused: condition('WaypointAccepted', false, reason, message),
  });
  for (const ref of targetRefs) {
    const ns = ref.namespace ?? namespace;
    const what = `${ref.kind} ${ns}/${ref.name}`;
    if (ref.kind === 'Gateway') {
      if (!state.waypoints.has(`${ns}/${ref.name}`))
        return refused('TargetNotFound', `${what} is not a waypoint (or does not exist)`);
      bound.push(`${ns}/${ref.name}`);
    } else if (ref.kind === 'Service') {
      const svc = state.services.get(`${ns}/${ref.name}.${ns}.svc.${state.options.domainSuffix}`);
      if (!svc) return refused('TargetNotFound', `${what} not found`);
      if (!svc.waypoint)
        return refused(
          'TargetNotFound',
          `${what} uses no waypoint (label istio.io/use-waypoint); a policy with targetRefs is enforced only by waypoints`,
        );
      bound.push(svc.waypoint.waypoint);
    } else if (ref.kind === 'GatewayClass') {
      bound.push(`class ${ref.name}`);
    } else {
      return refused(
        'Invalid',
        `targetRefs kind ${ref.kind} is not supported (use Gateway, Service or GatewayClass)`,
      );
    }
  }
  return { ok: true, bound: [...new Set(bound)] };
}
