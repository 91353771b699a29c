// The Envoy resource kinds (and SDS Secrets for ingress gateways) as typed maps, and their packing for the xDS server.
import type { Cluster } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Listener } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import type { Secret } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { EnvoyNote } from './notes.js';

/** Resources by name, each map in name order. */
export interface EnvoyResources {
  readonly listeners: ReadonlyMap<string, Listener>;
  readonly routes: ReadonlyMap<string, RouteConfiguration>;
  readonly clusters: ReadonlyMap<string, Cluster>;
  /** ClusterLoadAssignments by cluster name. */
  readonly endpoints: ReadonlyMap<string, ClusterLoadAssignment>;
  /** SDS: listener certificates (ingress gateways only), by `kubernetes://<ns>/<name>`. */
  readonly secrets?: ReadonlyMap<string, Secret>;
  readonly notes: readonly EnvoyNote[];
}
