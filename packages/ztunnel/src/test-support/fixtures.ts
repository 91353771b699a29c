// Model values with defaults, for tests: only the fields a test cares about are spelled out.
import type { Authorization, Match, Service, Workload } from '../state/model.js';

export function workload(fields: Partial<Workload> & { uid: string }): Workload {
  return {
    name: fields.uid.split('/').pop()!,
    namespace: 'default',
    addresses: [],
    hostname: '',
    network: '',
    protocol: 'HBONE',
    trustDomain: 'cluster.local',
    serviceAccount: 'default',
    node: 'node-1',
    canonicalName: '',
    canonicalRevision: '',
    workloadType: 'pod',
    workloadName: '',
    nativeTunnel: false,
    services: {},
    authorizationPolicies: [],
    status: 'Healthy',
    clusterId: 'Kubernetes',
    locality: { region: '', zone: '', subzone: '' },
    networkMode: 'Standard',
    capacity: 1,
    ...fields,
  };
}

export function service(fields: Partial<Service> & { hostname: string }): Service {
  return {
    name: fields.hostname.split('.')[0],
    namespace: 'default',
    vips: [],
    cidrVips: [],
    ports: [],
    subjectAltNames: [],
    weightedWaypoints: [],
    ipFamilies: 'Automatic',
    canonical: false,
    ingressUseWaypoint: false,
    visibility: 'Public',
    ...fields,
  };
}

export function match(fields: Partial<Match>): Match {
  return {
    namespaces: [],
    notNamespaces: [],
    serviceAccounts: [],
    notServiceAccounts: [],
    principals: [],
    notPrincipals: [],
    sourceIps: [],
    notSourceIps: [],
    destinationIps: [],
    notDestinationIps: [],
    destinationPorts: [],
    notDestinationPorts: [],
    ...fields,
  };
}

export function policy(fields: Partial<Authorization> & { name: string }): Authorization {
  return {
    namespace: 'default',
    scope: 'Namespace',
    action: 'Allow',
    rules: [],
    dryRun: false,
    ...fields,
  };
}
