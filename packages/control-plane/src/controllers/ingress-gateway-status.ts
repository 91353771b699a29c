// Status of an ingress Gateway (a Gateway of one of `gatewayClasses`), rendered from the listener
// decisions the gateway's Envoy resources are built from (translate/envoy/gateway-listeners.ts):
// Accepted (with the reason of the decision), Programmed (once its Service has an address:
// `status.loadBalancer.ingress`, or its cluster IP for a ClusterIP Service; with addresses asked
// for in spec.addresses, once the load balancer gave every one of them, and AddressNotUsable when
// its Service says it cannot: the condition LoadBalancerAddressError, see gateway-addresses.ts;
// False with NoResources and the API server's answer while its objects are refused), `status.addresses`
// (the load balancer's addresses, else the cluster IP while the load balancer has none), and per
// listener supportedKinds, attachedRoutes, Accepted, Conflicted, ResolvedRefs and Programmed;
// InsecureFrontendValidationMode while a client certificate validation is AllowInsecureFallback. Pure.
import type { Service } from '../model/kube.js';
import type { StatusCondition } from '../model/gateway-api.js';
import type { GatewayDecision, ListenerDecision } from '../translate/envoy/gateway-listeners.js';
import {
  ANNOTATION_LB_IPS,
  CONDITION_LB_ADDRESS_ERROR,
  requestedAddresses,
} from '../translate/envoy/gateway-addresses.js';
import type { RouteAttachments } from '../translate/envoy/route-attachment.js';
import { condition, generationOf, mergeConditions } from './conditions.js';
import type { GatewayStatus, ListenerStatus } from './gateway-status.js';

/** The name of the Deployment, Service and ServiceAccount of an ingress Gateway (Istio's). */
export function gatewayDeploymentName(gw: {
  metadata: { name: string };
  spec: { gatewayClassName: string };
}): string {
  return `${gw.metadata.name}-${gw.spec.gatewayClassName}`;
}

const INSECURE_FRONTEND = 'InsecureFrontendValidationMode';

export function ingressGatewayStatus(
  decision: GatewayDecision,
  service: Service | undefined,
  attachments: RouteAttachments,
  now: string,
  /** Why applying the gateway's objects failed, if it did. */
  deployFailure?: string,
): GatewayStatus {
  const gw = decision.gateway;
  const { namespace } = gw.metadata;
  const serviceName = `${namespace}/${gatewayDeploymentName(gw)}`;
  const lb = (service?.status?.loadBalancer?.ingress ?? []).flatMap((i) =>
    i.ip
      ? [{ type: 'IPAddress', value: i.ip }]
      : i.hostname
        ? [{ type: 'Hostname', value: i.hostname }]
        : [],
  );
  const clusterIP = service?.spec?.clusterIP;
  const ip = clusterIP && clusterIP !== 'None' ? clusterIP : undefined;
  const isLoadBalancer = (service?.spec?.type ?? 'ClusterIP') === 'LoadBalancer';
  // A LoadBalancer Service is reached at its load balancer's addresses: until it has one, none is
  // listed (the cluster IP would send clients outside the cluster nowhere, or somewhere else).
  const addresses =
    lb.length > 0 ? lb : ip && !isLoadBalancer ? [{ type: 'IPAddress', value: ip }] : [];
  const accepted = decision.accepted;
  const requested = requestedAddresses(gw);
  const missing = requested.filter((ip) => !lb.some((a) => a.value === ip));
  const lbError = service?.status?.conditions?.find(
    (c) => c.type === CONDITION_LB_ADDRESS_ERROR && c.status === 'True',
  );
  const asked = service?.metadata?.annotations?.[ANNOTATION_LB_IPS] ?? '';
  const programmed = !accepted.status
    ? condition('Programmed', false, 'Invalid', 'not deployed: the Gateway is not accepted')
    : deployFailure
      ? condition('Programmed', false, 'NoResources', `not deployed: ${deployFailure}`)
      : !service
        ? condition(
            'Programmed',
            false,
            'AddressNotAssigned',
            `waiting for Service ${serviceName} to be created`,
          )
        : requested.length > 0 && !isLoadBalancer
          ? condition(
              'Programmed',
              false,
              'AddressNotUsable',
              `spec.addresses ${requested.join(', ')}: only a LoadBalancer Service can be given requested addresses; Service ${serviceName} is of type ${service.spec?.type}`,
            )
          : requested.length > 0 && asked !== requested.join(',')
            ? condition(
                'Programmed',
                false,
                'AddressNotAssigned',
                `waiting for Service ${serviceName} to ask its load balancer for ${requested.join(', ')}`,
              )
            : missing.length > 0 && lbError
              ? condition(
                  'Programmed',
                  false,
                  lbError.reason === 'AddressNotUsable' ? 'AddressNotUsable' : 'AddressNotAssigned',
                  `the load balancer of Service ${serviceName} gives no address: ${lbError.message}`,
                )
              : missing.length > 0
                ? condition(
                    'Programmed',
                    false,
                    'AddressNotAssigned',
                    `waiting for the load balancer of Service ${serviceName} to assign ${missing.join(', ')}`,
                  )
                : isLoadBalancer && lb.length === 0
                  ? condition(
                      'Programmed',
                      false,
                      'AddressNotAssigned',
                      `Service ${serviceName} (type LoadBalancer) has no load balancer address yet${lbError ? ` (${lbError.message})` : ''}${ip ? `; reachable in the cluster at ${ip}` : ''}`,
                    )
                  : addresses.length === 0
                    ? condition(
                        'Programmed',
                        false,
                        'AddressNotAssigned',
                        `Service ${serviceName} has no address yet`,
                      )
                    : condition(
                        'Programmed',
                        true,
                        'Programmed',
                        `programmed; Service ${serviceName} at ${addresses.map((a) => a.value).join(', ')}`,
                      );
  const generation = generationOf(gw.metadata);
  return {
    conditions: mergeConditions(
      gw.status.conditions,
      [
        condition('Accepted', accepted.status, accepted.reason, accepted.message),
        programmed,
        // Present only while some client certificate validation lets invalid clients in.
        ...(decision.insecureFrontendValidation
          ? [
              condition(
                INSECURE_FRONTEND,
                true,
                'ConfigurationChanged',
                'spec.tls.frontend: client certificate validation in mode AllowInsecureFallback lets clients without a valid certificate in',
              ),
            ]
          : []),
        ...(decision.resolvedRefs
          ? [
              condition(
                'ResolvedRefs',
                decision.resolvedRefs.status,
                decision.resolvedRefs.reason,
                decision.resolvedRefs.message,
              ),
            ]
          : []),
      ],
      generation,
      now,
      [INSECURE_FRONTEND, 'ResolvedRefs'],
    ),
    addresses,
    listeners: decision.listeners
      .filter((d) => d.origin === undefined)
      .map((d) =>
        listenerStatus(d, decision.key, gw.status.listeners, attachments, generation, now),
      ),
    attachedListenerSets: decision.listenerSets.filter((s) => s.attached).length,
  };
}

/** One listener's status entry (a ListenerSet's listener under its name in the set). */
export function listenerStatus(
  d: ListenerDecision,
  gatewayKey: string,
  previous: readonly { name: string; conditions: readonly StatusCondition[] }[],
  attachments: RouteAttachments,
  generation: number | undefined,
  now: string,
): ListenerStatus {
  const name = d.origin?.sectionName ?? d.listener.name;
  return {
    name,
    supportedKinds: d.supportedKinds.map((k) => ({ group: k.group, kind: k.kind })),
    attachedRoutes: attachments.attachedRoutes(gatewayKey, d.listener.name),
    conditions: mergeConditions(
      previous.find((e) => e.name === name)?.conditions,
      d.conditions.map((c) => condition(c.type, c.status, c.reason, c.message)),
      generation,
      now,
    ),
  };
}
