// What an ingress Gateway (class `trellis` or `istio`) runs: the waypoint's ServiceAccount,
// Deployment and Service builder (waypoint-objects.ts) in the gateway role, named
// `<gateway>-<class>` as Istio names them and owned by the Gateway. The pod runs the waypoint image
// with `--role gateway` and listens on the Gateway's listener ports; the Service is of type
// LoadBalancer unless the Gateway says otherwise: the annotation `networking.istio.io/service-type`
// (Istio's), or the ConfigMap named by `spec.infrastructure.parametersRef` (`gatewayParameters`).
// `spec.infrastructure.labels` / `annotations` go on every object and the pods. The addresses the
// Gateway asks for (`spec.addresses`) go on the Service (gateway-addresses.ts). Pure.
import { parse } from 'yaml';
import type { Gateway } from '../model/gateway-api.js';
import {
  ANNOTATION_SERVICE_TYPE,
  GATEWAY_PROXY_PORTS,
  gatewayParametersProblem,
  SERVICE_TYPES,
  type ListenerDecision,
} from '../translate/envoy/gateway-listeners.js';
import {
  gatewayAddressProblem,
  requestedAddresses,
  serviceAddressRequest,
} from '../translate/envoy/gateway-addresses.js';
import { gatewayDeploymentName } from './ingress-gateway-status.js';
import {
  proxyObjects,
  type WaypointDeploymentOptions,
  type WaypointObjects,
} from './waypoint-objects.js';

/** Settings read from the parametersRef ConfigMap. */
export interface GatewayParameters {
  readonly serviceType?: string;
  readonly replicas?: number;
}

/**
 * The settings of a parametersRef ConfigMap, in Istio's layout: key `service` holds a Service
 * overlay whose `spec.type` is read, key `deployment` a Deployment overlay whose `spec.replicas`
 * is read. Anything else in the ConfigMap is not read. A value that does not fit is an error
 * naming the key and the field.
 */
export function gatewayParameters(
  data: Readonly<Record<string, string>> | undefined,
): { ok: true; value: GatewayParameters } | { ok: false; problem: string } {
  const out: { serviceType?: string; replicas?: number } = {};
  const read = (key: string): Record<string, unknown> | string | undefined => {
    const text = data?.[key];
    if (text === undefined) return undefined;
    try {
      const doc = parse(text) as unknown;
      const spec = doc && typeof doc === 'object' ? (doc as { spec?: unknown }).spec : undefined;
      if (spec === undefined) return {};
      return spec && typeof spec === 'object' && !Array.isArray(spec)
        ? (spec as Record<string, unknown>)
        : `data.${key}: spec must be a map`;
    } catch (err) {
      return `data.${key}: not YAML: ${(err as Error).message.split('\n')[0]}`;
    }
  };
  const service = read('service');
  if (typeof service === 'string') return { ok: false, problem: service };
  if (service?.type !== undefined) {
    if (typeof service.type !== 'string' || !SERVICE_TYPES.includes(service.type))
      return {
        ok: false,
        problem: `data.service: spec.type must be one of ${SERVICE_TYPES.join(', ')}, got ${JSON.stringify(service.type)}`,
      };
    out.serviceType = service.type;
  }
  const deployment = read('deployment');
  if (typeof deployment === 'string') return { ok: false, problem: deployment };
  if (deployment?.replicas !== undefined) {
    const r = deployment.replicas;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 0)
      return {
        ok: false,
        problem: `data.deployment: spec.replicas must be a non-negative integer, got ${JSON.stringify(r)}`,
      };
    out.replicas = r;
  }
  return { ok: true, value: out };
}

/**
 * Why the Gateway's own settings cannot be used, if they cannot (also its status): its parameters
 * or an address it asks for that the gateway cannot have. Such a Gateway is not deployed.
 */
export function gatewaySettingsProblem(gw: Gateway): string | undefined {
  return gatewayParametersProblem(gw) ?? gatewayAddressProblem(gw);
}

export function gatewayObjects(
  gw: Gateway,
  o: WaypointDeploymentOptions,
  params: GatewayParameters = {},
): WaypointObjects {
  // A listener on one of the proxy's own ports is not accepted, and gets no Service port.
  const ports = [...new Set(gw.spec.listeners.map((l) => l.port))]
    .filter((port) => !GATEWAY_PROXY_PORTS.has(port))
    .sort((a, b) => a - b);
  const protocolOf = (port: number) =>
    gw.spec.listeners.find((l) => l.port === port)!.protocol.toLowerCase();
  const replicas = params.replicas;
  return proxyObjects(gw, o, {
    name: gatewayDeploymentName(gw),
    podLabels: {},
    labels: gw.spec.infrastructure?.labels ?? {},
    annotations: gw.spec.infrastructure?.annotations ?? {},
    args: ['--role', 'gateway'],
    ports: ports.map((port) => ({ name: `${protocolOf(port)}-${port}`, port })),
    serviceType:
      params.serviceType ?? gw.metadata.annotations?.[ANNOTATION_SERVICE_TYPE] ?? 'LoadBalancer',
    serviceMetrics: false,
    service: serviceAddressRequest(requestedAddresses(gw)),
    ...(replicas !== undefined ? { replicas } : {}),
  });
}

/** The Gateway with the listeners of its ListenerSets added: the ports its deployment serves. */
export function withListenerSetPorts(gw: Gateway, listeners: readonly ListenerDecision[]): Gateway {
  const added = listeners.filter((d) => d.origin !== undefined).map((d) => d.listener);
  return added.length === 0
    ? gw
    : { ...gw, spec: { ...gw.spec, listeners: [...gw.spec.listeners, ...added] } };
}
