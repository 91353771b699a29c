// The core kinds (Pod, Service, EndpointSlice, Node, Namespace, ServiceAccount): every field the
// control plane reads is checked for its JSON type; the object itself is kept as it came (so
// informer objects keep their identity). Pure.
import { TLS_SECRET_TYPE, type TlsSecret } from '../../model/secret.js';
import { checkMeta } from './meta.js';
import {
  at,
  eachMap,
  optBool,
  optPort,
  optPortOrName,
  port,
  optMap,
  optStr,
  stringMap,
  strings,
  type Fields,
} from './reader.js';

function containerPorts(c: Fields, path: string): void {
  eachMap(c.ports, at(path, 'ports'), (p, pp) => {
    optStr(p.name, `${pp}.name`);
    optStr(p.protocol, `${pp}.protocol`);
    optPort(p.containerPort, `${pp}.containerPort`);
  });
}

export function checkPod(o: Fields): void {
  checkMeta(o, true);
  const spec = optMap(o.spec, 'spec');
  optStr(spec.serviceAccountName, 'spec.serviceAccountName');
  optStr(spec.nodeName, 'spec.nodeName');
  optBool(spec.hostNetwork, 'spec.hostNetwork');
  eachMap(spec.containers, 'spec.containers', containerPorts);
  eachMap(spec.initContainers, 'spec.initContainers', (c, p) => {
    optStr(c.restartPolicy, `${p}.restartPolicy`);
    containerPorts(c, p);
  });
  const status = optMap(o.status, 'status');
  optStr(status.phase, 'status.phase');
  optStr(status.podIP, 'status.podIP');
  eachMap(status.podIPs, 'status.podIPs', (ip, p) => void optStr(ip.ip, `${p}.ip`));
  eachMap(status.conditions, 'status.conditions', (c, p) => {
    optStr(c.type, `${p}.type`);
    optStr(c.status, `${p}.status`);
  });
}

export function checkService(o: Fields): void {
  checkMeta(o, true);
  const spec = optMap(o.spec, 'spec');
  optStr(spec.type, 'spec.type');
  stringMap(spec.selector, 'spec.selector');
  optStr(spec.clusterIP, 'spec.clusterIP');
  strings(spec.clusterIPs, 'spec.clusterIPs');
  strings(spec.ipFamilies, 'spec.ipFamilies');
  optStr(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy');
  optStr(spec.trafficDistribution, 'spec.trafficDistribution');
  optBool(spec.publishNotReadyAddresses, 'spec.publishNotReadyAddresses');
  eachMap(spec.ports, 'spec.ports', (p, path) => {
    optStr(p.name, `${path}.name`);
    optStr(p.protocol, `${path}.protocol`);
    optStr(p.appProtocol, `${path}.appProtocol`);
    port(p.port, `${path}.port`);
    optPortOrName(p.targetPort, `${path}.targetPort`);
  });
  optStr(spec.loadBalancerIP, 'spec.loadBalancerIP');
  // An ingress gateway's addresses, and why its load balancer gives none.
  const status = optMap(o.status, 'status');
  const lb = optMap(status.loadBalancer, 'status.loadBalancer');
  eachMap(lb.ingress, 'status.loadBalancer.ingress', (i, p) => {
    optStr(i.ip, `${p}.ip`);
    optStr(i.hostname, `${p}.hostname`);
  });
  eachMap(status.conditions, 'status.conditions', (c, p) => {
    optStr(c.type, `${p}.type`);
    optStr(c.status, `${p}.status`);
    optStr(c.reason, `${p}.reason`);
    optStr(c.message, `${p}.message`);
  });
}

export function checkEndpointSlice(o: Fields): void {
  checkMeta(o, true);
  optStr(o.addressType, 'addressType');
  eachMap(o.endpoints, 'endpoints', (ep, p) => {
    strings(ep.addresses, `${p}.addresses`);
    optBool(optMap(ep.conditions, `${p}.conditions`).ready, `${p}.conditions.ready`);
    const ref = optMap(ep.targetRef, `${p}.targetRef`);
    optStr(ref.kind, `${p}.targetRef.kind`);
    optStr(ref.name, `${p}.targetRef.name`);
    optStr(ref.namespace, `${p}.targetRef.namespace`);
  });
  eachMap(o.ports, 'ports', (port, p) => {
    optStr(port.name, `${p}.name`);
    optStr(port.protocol, `${p}.protocol`);
    optPort(port.port, `${p}.port`);
  });
}

/** Namespaces, Nodes and ServiceAccounts: only their metadata is read. */
export function checkMetadataOnly(namespaced: boolean): (o: Fields) => void {
  return (o) => void checkMeta(o, namespaced);
}

/**
 * A Secret becomes its name, type and, for TLS Secrets (`kubernetes.io/tls`, or `Opaque` with the
 * same keys), the PEM texts of `tls.crt` and `tls.key`; other Secrets keep no data.
 */
export function toTlsSecret(o: Fields): TlsSecret {
  const metadata = checkMeta(o, true);
  const type = optStr(o.type, 'type') || 'Opaque';
  const data = stringMap(o.data, 'data');
  // stringData: what a manifest may carry (the API server folds it into data).
  const plain = stringMap(o.stringData, 'stringData');
  const text = (key: string) => {
    const v = data[key];
    return v === undefined ? plain[key] : Buffer.from(v, 'base64').toString('utf8');
  };
  const tls =
    type === TLS_SECRET_TYPE || (type === 'Opaque' && ('tls.crt' in data || 'tls.crt' in plain));
  if (!tls) return { metadata, type };
  const certificateChain = text('tls.crt');
  const privateKey = text('tls.key');
  return {
    metadata,
    type,
    ...(certificateChain !== undefined ? { certificateChain } : {}),
    ...(privateKey !== undefined ? { privateKey } : {}),
  };
}
