// The Envoy xDS types the control plane serves.
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
} from '@trellis/api';

/** LDS, RDS, CDS, EDS, and SDS (ingress gateways' listener certificates; empty for other sets). */
export const ENVOY_TYPES: readonly string[] = Object.freeze([
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  CLUSTER_TYPE_URL,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  SECRET_TYPE_URL,
]);
