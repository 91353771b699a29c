// Status of an ingress Gateway (a Gateway of one of `gatewayClasses`), rendered from the listener
// decisions the gateway's Envoy resources are built from (translate/envoy/gateway-listeners.ts):
// Accepted (with the reason of the decision), Programmed (once its Service has an address:
// `status.loadBalancer.ingress`, or its cluster IP for a ClusterIP Service), `status.addresses`
// (the load balancer's addresses, else the cluster IP while the load balancer has none), and per
// listener supportedKinds, attachedRoutes, Accepted, Conflicted, ResolvedRefs and Programmed;
// InsecureFrontendValidationMode while a client certificate validation is AllowInsecureFallback. Pure.
import type { Service } from '../model/kube.js';
import type { GatewayDecision } from '../translate/envoy/gateway-listeners.js';
import type { RouteAttachments } from '../translate/envoy/route-attachment.js';
import { condition, generationOf, mergeConditions } from './conditions.js';
import type { GatewayStatus } from './gateway-status.js';

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
  const programmed = !accepted.status
    ? condition('Programmed', false, 'Invalid', 'not deployed: the Gateway is not accepted')
    : !service
      ? condition(
          'Programmed',
          false,
          'AddressNotAssigned',
          `waiting for Service ${serviceName} to be created`,
        )
      : isLoadBalancer && lb.length === 0
        ? condition(
            'Programmed',
            false,
            'AddressNotAssigned',
            `Service ${serviceName} (type LoadBalancer) has no load balancer address yet${ip ? `; reachable in the cluster at ${ip}` : ''}`,
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
    listeners: decision.listeners.map((d) => ({
      name: d.listener.name,
      supportedKinds: d.supportedKinds.map((k) => ({ group: k.group, kind: k.kind })),
      attachedRoutes: attachments.attachedRoutes(decision.key, d.listener.name),
      conditions: mergeConditions(
        gw.status.listeners.find((e) => e.name === d.listener.name)?.conditions,
        d.conditions.map((c) => condition(c.type, c.status, c.reason, c.message)),
        generation,
        now,
      ),
    })),
  };
}
