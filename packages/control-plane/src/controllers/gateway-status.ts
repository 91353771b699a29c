// Status of a waypoint Gateway: Accepted (it has the HBONE listener a waypoint needs), Programmed
// (its Service has a cluster IP, which becomes status.addresses and so the address ztunnel sends
// traffic to; False with NoResources and the API server's answer while its objects are refused),
// and per-listener conditions with the number of attached routes. Pure.
import type { Gateway, GatewayListener } from '../model/gateway-api.js';
import type { Service } from '../model/kube.js';
import type { RouteAttachments } from '../translate/envoy/route-attachment.js';
import { HBONE_PORT } from '../model/well-known.js';
import { condition, generationOf, mergeConditions, type Condition } from './conditions.js';

export interface ListenerStatus {
  readonly name: string;
  readonly supportedKinds: { group: string; kind: string }[];
  readonly attachedRoutes: number;
  readonly conditions: Condition[];
}

export interface GatewayStatus {
  readonly conditions: Condition[];
  readonly addresses: { type: string; value: string }[];
  readonly listeners: ListenerStatus[];
  /** Ingress Gateways: the ListenerSets attached (allowed, with a usable listener). */
  readonly attachedListenerSets?: number;
}

const HBONE_HINT = 'a waypoint needs a listener {name: mesh, port: 15008, protocol: HBONE}';

/** Why a Gateway of a waypoint class cannot run as a waypoint, if it cannot. */
export function waypointGatewayProblem(gw: Gateway): string | undefined {
  const hbone = gw.spec.listeners.some((l) => l.protocol === 'HBONE' && l.port === HBONE_PORT);
  return hbone ? undefined : `no HBONE listener on port ${HBONE_PORT}: ${HBONE_HINT}`;
}

export function gatewayStatus(
  gw: Gateway,
  service: Service | undefined,
  attachments: RouteAttachments,
  domainSuffix: string,
  now: string,
  /** Why applying the waypoint's objects failed, if it did. */
  deployFailure?: string,
): GatewayStatus {
  const { name, namespace: ns } = gw.metadata;
  const problem = waypointGatewayProblem(gw);
  const clusterIP = service?.spec?.clusterIP;
  const ip = clusterIP && clusterIP !== 'None' ? clusterIP : undefined;
  const host = `${name}.${ns}.svc.${domainSuffix}`;
  const conditions = [
    problem
      ? condition('Accepted', false, 'ListenersNotValid', problem)
      : condition('Accepted', true, 'Accepted', 'waypoint deployed by trellis'),
    problem
      ? condition('Programmed', false, 'Invalid', 'not deployed: the Gateway is not accepted')
      : deployFailure
        ? condition('Programmed', false, 'NoResources', `not deployed: ${deployFailure}`)
        : ip
          ? condition('Programmed', true, 'Programmed', `assigned to service ${host}:${HBONE_PORT}`)
          : condition(
              'Programmed',
              false,
              'AddressNotAssigned',
              service
                ? `Service ${ns}/${name} has no cluster IP yet`
                : `waiting for Service ${ns}/${name} to be created`,
            ),
  ];
  const existing = gw.status;
  const generation = generationOf(gw.metadata);
  const gwKey = `${ns}/${name}`;
  return {
    conditions: mergeConditions(existing.conditions, conditions, generation, now),
    addresses: ip ? [{ type: 'IPAddress', value: ip }] : [],
    listeners: gw.spec.listeners.map((l) => ({
      name: l.name,
      supportedKinds: [
        { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' },
        { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute' },
      ],
      attachedRoutes: attachments.attachedRoutes(gwKey, l.name),
      conditions: mergeConditions(
        existing.listeners.find((e) => e.name === l.name)?.conditions,
        listenerConditions(l),
        generation,
        now,
      ),
    })),
  };
}

function listenerConditions(l: GatewayListener) {
  const ok = l.protocol === 'HBONE';
  return [
    ok
      ? condition('Accepted', true, 'Accepted', 'listener accepted')
      : condition(
          'Accepted',
          false,
          'UnsupportedProtocol',
          `a waypoint serves protocol HBONE only, not ${l.protocol}`,
        ),
    condition(
      'Programmed',
      ok,
      ok ? 'Programmed' : 'Invalid',
      ok ? 'listener programmed' : 'listener not programmed',
    ),
    condition('ResolvedRefs', true, 'ResolvedRefs', 'no references to resolve'),
  ];
}
