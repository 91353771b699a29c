// The ingress GatewayClasses (`trellis`, and `istio` so Istio manifests work unchanged) with the
// controller name `trellis.dev/gateway-controller`, and the status written on them: Accepted, and
// the Gateway API features this implementation supports (`status.supportedFeatures`, sorted, as
// the spec asks). The feature lists live in model/supported-features.ts. Pure.
import { GATEWAY_CONTROLLER_NAME } from './route-status.js';
import { condition, generationOf, mergeConditions, type Condition } from './conditions.js';
import { SUPPORTED_FEATURES } from '../model/supported-features.js';

export { SUPPORTED_FEATURES };

export interface GatewayClassSpec {
  readonly name: string;
  readonly description: string;
}

/** The ingress classes applied at start (names match the default `gatewayClasses`). */
export const INGRESS_GATEWAY_CLASSES: readonly GatewayClassSpec[] = [
  {
    name: 'trellis',
    description: 'Trellis ingress gateways (the L7 engine in the gateway role)',
  },
  { name: 'istio', description: "Trellis ingress gateways under Istio's class name" },
];

export function gatewayClassObject(c: GatewayClassSpec) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: c.name },
    spec: { controllerName: GATEWAY_CONTROLLER_NAME, description: c.description },
  };
}

export interface GatewayClassStatus {
  readonly conditions: Condition[];
  readonly supportedFeatures: { name: string }[];
}

/** The status of a GatewayClass of ours, from the class as read. */
export function gatewayClassStatus(
  current: {
    metadata?: { generation?: number };
    status?: {
      conditions?: readonly { type: string; status: string; lastTransitionTime?: string }[];
    };
  },
  now: string,
): GatewayClassStatus {
  return {
    conditions: mergeConditions(
      current.status?.conditions,
      [condition('Accepted', true, 'Accepted', `handled by ${GATEWAY_CONTROLLER_NAME}`)],
      generationOf(current.metadata),
      now,
    ),
    supportedFeatures: SUPPORTED_FEATURES.map((name) => ({ name })),
  };
}
