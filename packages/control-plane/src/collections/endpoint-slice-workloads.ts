// Workloads for Service endpoints that are not pods (for example the API server behind
// `kubernetes.default`, or hand-written EndpointSlices). Pod endpoints come from the pods themselves.
import type { EndpointSlice } from '../model/kube.js';
import type { ResolvedMeshOptions } from '../model/options.js';
import type { ServiceInfo } from '../model/service-info.js';
import type { WorkloadInfo, WorkloadPort } from '../model/workload-info.js';
import { LABEL_SERVICE_NAME } from '../model/well-known.js';
import { isIP } from './ip-text.js';
import { labelsOf, nameOf, namespaceOf } from './meta.js';
import { serviceKey } from './services.js';

export function endpointSliceWorkloads(
  slice: EndpointSlice,
  services: ReadonlyMap<string, ServiceInfo>,
  options: ResolvedMeshOptions,
): WorkloadInfo[] {
  const serviceName = labelsOf(slice)[LABEL_SERVICE_NAME];
  if (!serviceName || slice.addressType === 'FQDN') return [];
  const namespace = namespaceOf(slice);
  const svc = services.get(serviceKey(namespace, serviceName, options));
  if (!svc) return [];
  const ports = slicePorts(slice, svc);
  const result: WorkloadInfo[] = [];
  const seen = new Set<string>();
  for (const ep of slice.endpoints ?? []) {
    if (ep.targetRef?.kind === 'Pod') continue;
    const first = ep.addresses?.[0];
    if (first === undefined || seen.has(first) || !ep.addresses.every(isIP)) continue;
    seen.add(first);
    result.push({
      uid: `${options.clusterId}/discovery.k8s.io/EndpointSlice/${namespace}/${nameOf(slice)}/${first}`,
      source: 'EndpointSlice',
      name: nameOf(slice),
      namespace,
      addresses: [...ep.addresses],
      network: options.network,
      clusterId: options.clusterId,
      trustDomain: options.trustDomain,
      serviceAccount: '',
      identity: '',
      node: '',
      ambient: false,
      tunnel: 'NONE',
      nativeTunnel: false,
      // Opaque endpoints may share addresses with others: never look them up by IP alone.
      hostNetwork: true,
      healthy: ep.conditions?.ready !== false,
      workloadName: '',
      canonicalName: '',
      canonicalRevision: '',
      services: { [svc.key]: ports },
      authorizationPolicies: [],
      labels: {},
    });
  }
  return result;
}

/** Slice ports carry the service port's name and the target port number; TCP only. */
function slicePorts(slice: EndpointSlice, svc: ServiceInfo): WorkloadPort[] {
  const ports: WorkloadPort[] = [];
  for (const p of slice.ports ?? []) {
    if (p.port === undefined || (p.protocol ?? 'TCP') !== 'TCP') continue;
    const servicePort = svc.ports.find((sp) => sp.name === (p.name ?? ''));
    if (servicePort) ports.push({ servicePort: servicePort.port, targetPort: p.port });
  }
  return ports;
}
