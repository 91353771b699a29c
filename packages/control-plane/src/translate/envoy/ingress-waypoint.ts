// Endpoints of a backend Service labelled `istio.io/ingress-use-waypoint: "true"` that uses a
// waypoint: the ingress gateway sends its requests through the waypoint, as ztunnel would for a
// mesh client. Each endpoint is the Service's VIP and port (what the waypoint matches the inner
// stream on), reached by HBONE through one waypoint pod: metadata `tunnel: {destination:
// "<waypoint pod ip>:15008", address: "<vip>:<port>"}` (Istio's shape) with
// `envoy.transport_socket_match: {tunnel: hbone}` and the waypoint pod's identity under
// `trellis`, so the gateway checks the waypoint's certificate. Pure.
import { create } from '@bufbuild/protobuf';
import { LocalitySchema, MetadataSchema } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import { HealthStatus } from '@trellis/api/gen/envoy/config/core/v3/health_check_pb.js';
import {
  ClusterLoadAssignmentSchema,
  type ClusterLoadAssignment,
} from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import {
  EndpointSchema,
  LbEndpointSchema,
  LocalityLbEndpointsSchema,
} from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { HBONE_PORT } from '../../model/well-known.js';
import { socketAddress } from './common.js';
import type { ClusterRef } from './route-context.js';
import type { EnvoyState } from './state.js';
import type { WorkloadIndex } from './workload-index.js';

export function ingressWaypointAssignment(
  clusterName: string,
  ref: ClusterRef,
  state: EnvoyState,
  index: WorkloadIndex,
): ClusterLoadAssignment {
  const key = ref.service.waypoint?.waypoint ?? '';
  const waypoint = state.waypoints.get(key);
  const vip = ref.service.vips[0]?.ip;
  const pods =
    waypoint && vip !== undefined
      ? index
          .podsOfGateway(waypoint.namespace, waypoint.name)
          .filter((w) => w.healthy && w.addresses[0] !== undefined)
      : [];
  const lbEndpoints = pods.map((w) =>
    create(LbEndpointSchema, {
      hostIdentifier: {
        case: 'endpoint',
        value: create(EndpointSchema, { address: socketAddress(vip!, ref.port.port) }),
      },
      healthStatus: HealthStatus.HEALTHY,
      metadata: create(MetadataSchema, {
        filterMetadata: {
          'envoy.transport_socket_match': { tunnel: 'hbone' },
          tunnel: {
            destination: `${w.addresses[0]}:${HBONE_PORT}`,
            address: `${vip}:${ref.port.port}`,
          },
          trellis: { workload: w.uid, ...(w.identity ? { identity: w.identity } : {}) },
        },
      }),
    }),
  );
  return create(ClusterLoadAssignmentSchema, {
    clusterName,
    endpoints:
      lbEndpoints.length > 0
        ? [
            create(LocalityLbEndpointsSchema, {
              locality: create(LocalitySchema),
              lbEndpoints,
              loadBalancingWeight: lbEndpoints.length,
            }),
          ]
        : [],
  });
}
