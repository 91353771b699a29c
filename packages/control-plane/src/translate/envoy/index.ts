// Envoy xDS v3 resources (LDS, RDS, CDS, EDS) for waypoints and proxyless gRPC clients.
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
} from '@trellis/api';
import type { GenerateContext, GeneratedResources, Proxy } from '@trellis/xds';
import type { MeshState } from '../../collections/mesh-state.js';

/** The type URLs `generateEnvoy` serves. */
export const ENVOY_TYPE_URLS: readonly string[] = Object.freeze([
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  CLUSTER_TYPE_URL,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
]);

/** An xDS generator for the Envoy types; pure. */
export function generateEnvoy(
  _typeUrl: string,
  _state: MeshState,
  _proxy: Proxy,
  _ctx: GenerateContext,
): GeneratedResources {
  return new Map();
}
