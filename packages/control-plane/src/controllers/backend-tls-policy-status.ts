// BackendTLSPolicy status: one `status.ancestors[]` entry per ingress Gateway (ours) with an
// accepted route sending to a Service the policy targets, carrying the policy's Accepted and
// ResolvedRefs decision (translate/envoy/backend-tls.ts). Other controllers' entries are kept.
// Undefined when there is nothing to write. Pure.
import type { BackendTLSPolicy, PolicyAncestorStatus } from '../model/backend-tls-policy.js';
import type { BackendTlsDecision } from '../translate/envoy/backend-tls.js';
import type { RouteAttachments } from '../translate/envoy/route-attachment.js';
import { GATEWAY_GROUP } from '../model/gateway-api.js';
import { condition, generationOf, mergeConditions } from './conditions.js';
import { GATEWAY_CONTROLLER_NAME } from './route-status.js';

const OWNED = ['Accepted', 'ResolvedRefs'];

/** The ingress Gateways (`<ns>/<name>`, sorted) whose accepted routes send to each Service (`<ns>/<name>`). */
export function gatewaysByBackend(attachments: RouteAttachments): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const r of attachments.routes) {
    const gateways = r.parents.filter((p) => p.ingress && p.gateway).map((p) => p.gateway!.key);
    if (gateways.length === 0) continue;
    for (const rule of r.object.spec.rules as readonly {
      backendRefs: readonly { group: string; kind: string; name: string; namespace: string }[];
    }[])
      for (const b of rule.backendRefs) {
        if (b.group !== '' || b.kind !== 'Service') continue;
        const key = `${b.namespace}/${b.name}`;
        const set = out.get(key) ?? new Set<string>();
        for (const g of gateways) set.add(g);
        out.set(key, set);
      }
  }
  return new Map([...out].map(([k, v]) => [k, [...v].sort()]));
}

export function backendTlsPolicyStatus(
  d: BackendTlsDecision,
  gatewaysOf: ReadonlyMap<string, readonly string[]>,
  now: string,
): { ancestors: PolicyAncestorStatus[] } | undefined {
  const policy: BackendTLSPolicy = d.policy;
  const existing = policy.status.ancestors;
  const theirs = existing.filter((a) => a.controllerName !== GATEWAY_CONTROLLER_NAME);
  const gateways = [...new Set(d.services.flatMap((s) => gatewaysOf.get(s) ?? []))].sort();
  if (gateways.length === 0 && theirs.length === existing.length) return undefined;
  const generation = generationOf(policy.metadata);
  const ours = gateways.map((key): PolicyAncestorStatus => {
    const [namespace, name] = key.split('/') as [string, string];
    const before = existing.find(
      (a) =>
        a.controllerName === GATEWAY_CONTROLLER_NAME &&
        a.ancestorRef.name === name &&
        (a.ancestorRef.namespace ?? policy.metadata.namespace) === namespace,
    );
    return {
      ancestorRef: { group: GATEWAY_GROUP, kind: 'Gateway', namespace, name },
      controllerName: GATEWAY_CONTROLLER_NAME,
      conditions: mergeConditions(
        before?.conditions,
        d.conditions.map((c) => condition(c.type, c.status, c.reason, c.message)),
        generation,
        now,
        OWNED,
      ),
    };
  });
  return { ancestors: [...ours, ...theirs] };
}
