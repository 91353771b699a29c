// Pod workloads: every running pod with an IP, enrolled or not, so that ztunnel knows how to reach it.
import type { EndpointSlice, Node, Pod } from '../model/kube.js';
import type { ResolvedMeshOptions } from '../model/options.js';
import type { ServiceInfo } from '../model/service-info.js';
import type { WorkloadInfo, WorkloadPort } from '../model/workload-info.js';
import {
  LABEL_REGION,
  LABEL_SERVICE_NAME,
  LABEL_SUBZONE,
  LABEL_ZONE,
} from '../model/well-known.js';
import { isAmbientEnrolled, tunnelOf } from './enrollment.js';
import { compareStrings, keyOf, labelsOf, nameOf, namespaceOf } from './meta.js';
import {
  canonicalNameOf,
  canonicalRevisionOf,
  containerPortByName,
  isHealthy,
  isTerminal,
  podAddresses,
  workloadNameOf,
} from './pod-meta.js';
import { isSubset } from './selector.js';
import { serviceKey } from './services.js';
import { resolveWorkloadWaypoint, type WaypointLookup } from './waypoint-binding.js';

export interface PodWorkloadContext {
  options: ResolvedMeshOptions;
  waypoints: WaypointLookup;
  /** Services with a selector, by namespace. */
  selectingServices: ReadonlyMap<string, readonly ServiceInfo[]>;
  /** All services by `<namespace>/<hostname>`. */
  services: ReadonlyMap<string, ServiceInfo>;
  /** EndpointSlices that list a pod, by `<namespace>/<pod name>`. */
  slicesByPod: ReadonlyMap<string, readonly EndpointSlice[]>;
  nodes: ReadonlyMap<string, Node>;
  /** Selector-scoped and PeerAuthentication-derived policy names for a workload. */
  policiesFor(namespace: string, labels: Record<string, string>): string[];
  /** `<ns>/<name>` of the pods (not on the host network) whose workloads have this IP. */
  podsWithIP(ip: string): Iterable<string>;
}

/** The IPs a pod's workload claims for itself (host-network pods share the node's). */
export function claimedIPs(pod: Pod): string[] {
  if (isTerminal(pod) || pod.spec?.hostNetwork) return [];
  return podAddresses(pod).ips;
}

/** `<ns>/<name>` of the pods that claim each IP (see `claimedIPs`). */
export function podIPIndex(pods: readonly Pod[]): Map<string, Set<string>> {
  const index = new Map<string, Set<string>>();
  for (const pod of pods)
    for (const ip of claimedIPs(pod)) {
      const set = index.get(ip);
      if (set) set.add(keyOf(pod));
      else index.set(ip, new Set([keyOf(pod)]));
    }
  return index;
}

export function podWorkloadUid(clusterId: string, namespace: string, name: string): string {
  return `${clusterId}//Pod/${namespace}/${name}`;
}

export function podWorkload(pod: Pod, ctx: PodWorkloadContext): WorkloadInfo | undefined {
  if (isTerminal(pod)) return undefined;
  const { ips: addresses, problems } = podAddresses(pod);
  if (addresses.length === 0 && problems.length === 0) return undefined;
  const { options } = ctx;
  const name = nameOf(pod);
  const namespace = namespaceOf(pod);
  const labels = labelsOf(pod);
  const ambient = isAmbientEnrolled(pod, ctx.waypoints.namespaceLabels(namespace));
  const { tunnel, nativeTunnel } = tunnelOf(pod, ambient, options);
  const serviceAccount = pod.spec?.serviceAccountName || 'default';
  const workloadName = workloadNameOf(pod);
  const waypoint = resolveWorkloadWaypoint(labels, namespace, ctx.waypoints);
  const info: WorkloadInfo = {
    uid: podWorkloadUid(options.clusterId, namespace, name),
    source: 'Pod',
    name,
    namespace,
    addresses,
    network: options.network,
    clusterId: options.clusterId,
    trustDomain: options.trustDomain,
    serviceAccount,
    identity: `spiffe://${options.trustDomain}/ns/${namespace}/sa/${serviceAccount}`,
    node: pod.spec?.nodeName ?? '',
    ambient,
    tunnel,
    nativeTunnel,
    hostNetwork: pod.spec?.hostNetwork === true,
    healthy: isHealthy(pod),
    workloadName,
    canonicalName: canonicalNameOf(labels, workloadName),
    canonicalRevision: canonicalRevisionOf(labels),
    services: podServices(pod, labels, ctx),
    authorizationPolicies: ctx.policiesFor(namespace, labels),
    labels,
  };
  if (waypoint.binding) info.waypoint = waypoint.binding;
  if (waypoint.problem) info.waypointProblem = waypoint.problem;
  if (!info.hostNetwork)
    for (const ip of addresses) {
      const others = [...ctx.podsWithIP(ip)].filter((k) => k !== `${namespace}/${name}`).sort();
      if (others.length > 0) problems.push(`IP ${ip} is also claimed by pod ${others.join(', ')}`);
    }
  if (problems.length > 0) info.addressProblem = problems.join('; ');
  const locality = localityOf(ctx.nodes.get(info.node));
  if (locality) info.locality = locality;
  return info;
}

/** Services whose selector matches the pod, plus selector-less services whose EndpointSlices list it. */
function podServices(
  pod: Pod,
  labels: Record<string, string>,
  ctx: PodWorkloadContext,
): Record<string, WorkloadPort[]> {
  const namespace = namespaceOf(pod);
  const found = new Map<string, ServiceInfo>();
  for (const svc of ctx.selectingServices.get(namespace) ?? []) {
    if (svc.selector && isSubset(svc.selector, labels)) found.set(svc.key, svc);
  }
  for (const slice of ctx.slicesByPod.get(`${namespace}/${nameOf(pod)}`) ?? []) {
    const serviceName = labelsOf(slice)[LABEL_SERVICE_NAME];
    if (!serviceName) continue;
    const key = serviceKey(namespace, serviceName, ctx.options);
    const svc = ctx.services.get(key);
    if (svc && !found.has(key)) found.set(key, svc);
  }
  const result: Record<string, WorkloadPort[]> = {};
  for (const key of [...found.keys()].sort(compareStrings)) {
    result[key] = workloadPorts(pod, found.get(key)!);
  }
  return result;
}

/** A named targetPort resolves against the pod's container ports; a port the pod lacks is left out. */
function workloadPorts(pod: Pod, svc: ServiceInfo): WorkloadPort[] {
  const ports: WorkloadPort[] = [];
  for (const p of svc.ports) {
    if (p.targetPortName === undefined) {
      ports.push({ servicePort: p.port, targetPort: p.targetPort });
      continue;
    }
    const target = containerPortByName(pod, p.targetPortName);
    if (target !== undefined) ports.push({ servicePort: p.port, targetPort: target });
  }
  return ports;
}

/** The locality a workload on `node` gets from the node's topology labels. */
export function localityOf(node: Node | undefined): WorkloadInfo['locality'] {
  if (!node) return undefined;
  const labels = labelsOf(node);
  const locality = {
    region: labels[LABEL_REGION] ?? '',
    zone: labels[LABEL_ZONE] ?? '',
    subzone: labels[LABEL_SUBZONE] ?? '',
  };
  return locality.region || locality.zone || locality.subzone ? locality : undefined;
}
