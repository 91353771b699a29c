// The source and destination labels Istio puts on every request and TCP metric, from the peer
// (source) and the chosen upstream host and service (destination); unknown values as Istio writes
// them.
import type { Host } from '../upstream/host.js';
import type { PeerLabels } from './peer.js';

export interface Destination {
  readonly service: string;
  readonly serviceName: string;
  readonly serviceNamespace: string;
}

export function workloadLabels(
  reporter: string,
  peer: PeerLabels,
  host: Host | undefined,
  dest: Destination,
) {
  const w = host?.endpoint.workload;
  const identity = host?.endpoint.identity;
  return {
    reporter,
    source_workload: peer.workload,
    source_canonical_service: peer.canonicalService,
    source_canonical_revision: peer.canonicalRevision,
    source_workload_namespace: peer.namespace,
    source_principal: peer.principal,
    source_app: peer.canonicalService,
    source_version: peer.canonicalRevision,
    source_cluster: peer.cluster,
    destination_workload: w?.name || 'unknown',
    destination_workload_namespace:
      w?.namespace || (identity ? (/\/ns\/([^/]+)\//.exec(identity)?.[1] ?? 'unknown') : 'unknown'),
    destination_principal: identity ?? 'unknown',
    destination_app: w?.canonicalService || 'unknown',
    destination_version: w?.canonicalRevision || 'unknown',
    destination_service: dest.service,
    destination_service_name: dest.serviceName,
    destination_service_namespace: dest.serviceNamespace,
    destination_canonical_service: w?.canonicalService || 'unknown',
    destination_canonical_revision: w?.canonicalRevision || 'latest',
    destination_cluster: w?.cluster || 'unknown',
  };
}
