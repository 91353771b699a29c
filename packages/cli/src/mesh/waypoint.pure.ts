// Waypoints as users declare them: a Gateway of class trellis-waypoint with one listener "mesh"
// on 15008, protocol HBONE, labelled istio.io/waypoint-for. Pure.
import type { KubeObject } from '../kube/objects.pure.js';

export const WAYPOINT_CLASSES: readonly string[] = ['trellis-waypoint', 'istio-waypoint'];
export const WAYPOINT_FOR = 'istio.io/waypoint-for';
export const USE_WAYPOINT = 'istio.io/use-waypoint';
export const WAYPOINT_FOR_VALUES = ['service', 'workload', 'all', 'none'] as const;
export type WaypointFor = (typeof WAYPOINT_FOR_VALUES)[number];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function waypointGateway(
  name: string,
  namespace: string,
  forTraffic: WaypointFor,
): KubeObject {
  if (!DNS_LABEL.test(name))
    throw new Error(
      `waypoint name "${name}" is not a DNS-1123 label (lower-case letters, digits, "-")`,
    );
  if (!DNS_LABEL.test(namespace))
    throw new Error(`namespace "${namespace}" is not a valid namespace name`);
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace, labels: { [WAYPOINT_FOR]: forTraffic } },
    spec: {
      gatewayClassName: 'trellis-waypoint',
      listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }],
    },
  };
}

export function isWaypoint(gw: KubeObject): boolean {
  return WAYPOINT_CLASSES.includes(gw?.spec?.gatewayClassName);
}

/** One condition of an object's status, or undefined. */
export function condition(obj: KubeObject, type: string): KubeObject | undefined {
  return (obj?.status?.conditions ?? []).find((c: KubeObject) => c.type === type);
}

export interface WaypointRow {
  readonly namespace: string;
  readonly name: string;
  readonly for: string;
  readonly programmed: string;
  readonly address: string;
  readonly message: string;
}

export function waypointRow(gw: KubeObject): WaypointRow {
  const programmed = condition(gw, 'Programmed');
  return {
    namespace: gw.metadata.namespace,
    name: gw.metadata.name,
    for: gw.metadata.labels?.[WAYPOINT_FOR] ?? 'service',
    programmed: programmed?.status ?? 'Unknown',
    address: (gw.status?.addresses ?? []).map((a: KubeObject) => a.value).join(',') || '-',
    message:
      programmed?.status === 'True'
        ? ''
        : (programmed?.message ?? 'no status yet (is the control plane running?)'),
  };
}
