// Status of a ListenerSet attached to an ingress Gateway, rendered from the Gateway's listener
// decisions (translate/envoy/gateway-listeners.ts), which merge the set's listeners into the
// Gateway's: Accepted and Programmed (NotAllowed when the Gateway's spec.allowedListeners does not
// admit the set's namespace; ListenersNotValid when none of its listeners is valid: accepted, not
// conflicted and with its certificates resolved), and per listener supportedKinds, attachedRoutes and conditions, as a Gateway's. A
// conflicting listener of a set is not accepted (reason HostnameConflict or ProtocolConflict).
// Pure.
import type { GatewayDecision, ListenerSetDecision } from '../translate/envoy/gateway-listeners.js';
import type { RouteAttachments } from '../translate/envoy/route-attachment.js';
import { condition, generationOf, mergeConditions, type Condition } from './conditions.js';
import type { ListenerStatus } from './gateway-status.js';
import { listenerStatus } from './ingress-gateway-status.js';

export interface ListenerSetStatus {
  readonly conditions: Condition[];
  readonly listeners: ListenerStatus[];
}

export function listenerSetStatus(
  set: ListenerSetDecision,
  decision: GatewayDecision,
  attachments: RouteAttachments,
  now: string,
): ListenerSetStatus {
  const ls = set.listenerSet;
  const generation = generationOf(ls.metadata);
  const gateway = decision.key;
  const mine = decision.listeners.filter(
    (d) => d.origin !== undefined && `${d.origin.namespace}/${d.origin.name}` === set.key,
  );
  const invalid = mine.filter((d) => !d.programmed).map((d) => d.origin!.sectionName);
  const desired = !set.allowed
    ? [
        condition(
          'Accepted',
          false,
          'NotAllowed',
          `Gateway ${gateway} does not allow ListenerSets from namespace ${ls.metadata.namespace} (its spec.allowedListeners)`,
        ),
        condition('Programmed', false, 'NotAllowed', 'not attached to the Gateway'),
      ]
    : !decision.accepted.status
      ? [
          condition('Accepted', false, 'ParentNotAccepted', `Gateway ${gateway} is not accepted`),
          condition('Programmed', false, 'ParentNotAccepted', `Gateway ${gateway} is not accepted`),
        ]
      : [
          set.attached
            ? condition(
                'Accepted',
                true,
                'Accepted',
                invalid.length
                  ? `attached to Gateway ${gateway}; listeners not valid: ${invalid.join(', ')}`
                  : `attached to Gateway ${gateway}`,
              )
            : condition(
                'Accepted',
                false,
                'ListenersNotValid',
                'no listener is valid (see status.listeners)',
              ),
          mine.some((d) => d.programmed)
            ? condition('Programmed', true, 'Programmed', `programmed on Gateway ${gateway}`)
            : condition('Programmed', false, 'ListenersNotValid', 'no listener is programmed'),
        ];
  return {
    conditions: mergeConditions(ls.status.conditions, desired, generation, now),
    listeners: set.allowed
      ? mine.map((d) =>
          listenerStatus(d, gateway, ls.status.listeners, attachments, generation, now),
        )
      : [],
  };
}
