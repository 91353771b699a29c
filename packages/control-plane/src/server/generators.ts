// The generators the control plane registers with the xDS server, by type URL.
//
// WDS (Address, Authorization) is the same for every ztunnel: each stream gets the packed map of
// the snapshot, filtered by the server to what the stream subscribed to. ztunnel subscribes to
// both types with a wildcard, so it receives every workload, service and policy of the mesh
// (Istio does the same unless on-demand Address lookups are enabled). Scoping by node would go
// here: the Proxy carries the ztunnel's node id (`ztunnel~<ip>~<pod>.<ns>~...`).
//
// The Envoy types (Listener, RouteConfiguration, Cluster, ClusterLoadAssignment) are built per
// proxy by the envoy translator from the MeshState and the routes (cached per snapshot by it).
import { sharedGenerator, type GeneratedResources, type Generator } from '@trellis/xds';
import { ENVOY_TYPE_URLS, generateEnvoy } from '../translate/envoy/index.js';
import type { ServedSnapshot } from './served-snapshot.js';
import { WDS_TYPE_URLS } from './wds-resources.js';

const NONE: GeneratedResources = new Map();

// The same for every proxy: the xDS server calls it once per snapshot and type.
export const wdsGenerator: Generator<ServedSnapshot> = sharedGenerator(
  (typeUrl, snapshot: ServedSnapshot) => snapshot.wds.get(typeUrl) ?? NONE,
);

export const envoyGenerator: Generator<ServedSnapshot> = (typeUrl, snapshot, proxy, context) =>
  generateEnvoy(typeUrl, snapshot.envoy, proxy, context);

export function controlPlaneGenerators(): Map<string, Generator<ServedSnapshot>> {
  return new Map<string, Generator<ServedSnapshot>>([
    ...WDS_TYPE_URLS.map((t) => [t, wdsGenerator] as const),
    ...ENVOY_TYPE_URLS.map((t) => [t, envoyGenerator] as const),
  ]);
}

/** Every type URL the control plane serves. */
export const SERVED_TYPE_URLS: readonly string[] = [...WDS_TYPE_URLS, ...ENVOY_TYPE_URLS];
export { ENVOY_TYPE_URLS };
