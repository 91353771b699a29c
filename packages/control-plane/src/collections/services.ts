// Services: one ServiceInfo per Kubernetes Service (ExternalName services are left to DNS).
import type { ClusterSnapshot, Namespace, Service } from '../model/kube.js';
import type { ResolvedMeshOptions } from '../model/options.js';
import type { LoadBalancingInfo, ServiceInfo, ServicePortInfo } from '../model/service-info.js';
import {
  ANNOTATION_TRAFFIC_DISTRIBUTION,
  LABEL_INGRESS_USE_WAYPOINT,
} from '../model/well-known.js';
import { appProtocolOf } from './app-protocol.js';
import { isIP } from './ip-text.js';
import { annotationsOf, compareStrings, labelsOf, nameOf, namespaceOf } from './meta.js';
import { resolveServiceWaypoint, type WaypointLookup } from './waypoint-binding.js';

export function deriveServices(
  snapshot: ClusterSnapshot,
  namespaces: ReadonlyMap<string, Namespace>,
  lookup: WaypointLookup,
  options: ResolvedMeshOptions,
): Map<string, ServiceInfo> {
  const infos = snapshot.services
    .map((s) => serviceInfo(s, namespaces.get(namespaceOf(s)), lookup, options))
    .filter((s): s is ServiceInfo => s !== undefined)
    .sort((a, b) => compareStrings(a.key, b.key));
  return new Map(infos.map((s) => [s.key, s]));
}

/** `<name>.<namespace>.svc.<domain suffix>` */
export function serviceHostname(
  namespace: string,
  name: string,
  options: ResolvedMeshOptions,
): string {
  return `${name}.${namespace}.svc.${options.domainSuffix}`;
}

/** The key of a Service's ServiceInfo: `<namespace>/<hostname>`. */
export function serviceKey(namespace: string, name: string, options: ResolvedMeshOptions): string {
  return `${namespace}/${serviceHostname(namespace, name, options)}`;
}

export function serviceInfo(
  svc: Service,
  namespace: Namespace | undefined,
  lookup: WaypointLookup,
  options: ResolvedMeshOptions,
): ServiceInfo | undefined {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return undefined;
  const name = nameOf(svc);
  const ns = namespaceOf(svc);
  const hostname = serviceHostname(ns, name, options);
  const labels = labelsOf(svc);
  const waypoint = resolveServiceWaypoint(labels, ns, lookup);
  const selector =
    spec.selector && Object.keys(spec.selector).length > 0 ? spec.selector : undefined;
  const info: ServiceInfo = {
    name,
    namespace: ns,
    hostname,
    key: serviceKey(ns, name, options),
    vips: clusterIPs(svc).map((ip) => ({ network: options.network, ip })),
    ports: (spec.ports ?? []).map(portInfo),
    ipFamilies: ipFamiliesOf(spec.ipFamilies),
    ingressUseWaypoint:
      waypoint.binding !== undefined && ingressUseWaypoint(labels, labelsOf(namespace)),
    labels,
  };
  if (selector) info.selector = selector;
  const lb = loadBalancingOf(svc, namespace);
  if (lb) info.loadBalancing = lb;
  if (waypoint.binding) info.waypoint = waypoint.binding;
  if (waypoint.problem) info.waypointProblem = waypoint.problem;
  return info;
}

function clusterIPs(svc: Service): string[] {
  const ips = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : [svc.spec?.clusterIP ?? ''];
  return ips.filter((ip) => ip !== '' && ip !== 'None' && isIP(ip));
}

function portInfo(p: NonNullable<NonNullable<Service['spec']>['ports']>[number]): ServicePortInfo {
  const target = p.targetPort ?? p.port;
  const named = typeof target === 'string' && !/^\d+$/.test(target);
  const info: ServicePortInfo = {
    name: p.name ?? '',
    port: p.port,
    targetPort: named ? 0 : Number(target),
    protocol: p.protocol ?? 'TCP',
    appProtocol: appProtocolOf(p),
  };
  if (named) info.targetPortName = target;
  return info;
}

function ipFamiliesOf(families: string[] | undefined): ServiceInfo['ipFamilies'] {
  if (!families || families.length === 0) return 'AUTOMATIC';
  if (families.length === 2) return 'DUAL';
  return families[0] === 'IPv6' ? 'IPV6_ONLY' : 'IPV4_ONLY';
}

/**
 * internalTrafficPolicy Local keeps traffic on the node; trafficDistribution (or Istio's annotation,
 * on the Service or its namespace) prefers close endpoints; publishNotReadyAddresses admits unready ones.
 */
function loadBalancingOf(
  svc: Service,
  namespace: Namespace | undefined,
): LoadBalancingInfo | undefined {
  const spec = svc.spec ?? {};
  let lb: LoadBalancingInfo | undefined;
  if (spec.internalTrafficPolicy === 'Local') {
    lb = { routingPreference: ['NODE'], mode: 'STRICT', healthPolicy: 'ONLY_HEALTHY' };
  } else {
    const distribution = trafficDistribution(
      spec.trafficDistribution,
      annotationsOf(svc),
      annotationsOf(namespace),
    );
    if (distribution === 'zone')
      lb = {
        routingPreference: ['NETWORK', 'REGION', 'ZONE'],
        mode: 'FAILOVER',
        healthPolicy: 'ONLY_HEALTHY',
      };
    if (distribution === 'node') {
      lb = {
        routingPreference: ['NETWORK', 'REGION', 'ZONE', 'SUBZONE', 'NODE'],
        mode: 'FAILOVER',
        healthPolicy: 'ONLY_HEALTHY',
      };
    }
  }
  if (spec.publishNotReadyAddresses) {
    lb = { ...(lb ?? { routingPreference: [], mode: 'UNSPECIFIED' }), healthPolicy: 'ALLOW_ALL' };
  }
  return lb;
}

function trafficDistribution(
  spec: string | undefined,
  svcAnnotations: Record<string, string>,
  nsAnnotations: Record<string, string>,
): 'zone' | 'node' | undefined {
  const pick = (v: string | undefined): 'zone' | 'node' | undefined => {
    switch (v?.toLowerCase()) {
      case 'preferclose':
      case 'prefersamezone':
        return 'zone';
      case 'prefersamenode':
        return 'node';
      default:
        return undefined;
    }
  };
  if (spec) return pick(spec);
  return pick(
    svcAnnotations[ANNOTATION_TRAFFIC_DISTRIBUTION] ??
      nsAnnotations[ANNOTATION_TRAFFIC_DISTRIBUTION],
  );
}

function ingressUseWaypoint(
  serviceLabels: Record<string, string>,
  namespaceLabels: Record<string, string>,
): boolean {
  const value =
    serviceLabels[LABEL_INGRESS_USE_WAYPOINT] ?? namespaceLabels[LABEL_INGRESS_USE_WAYPOINT];
  return value !== undefined && ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value);
}
