// The generators the control plane registers with the xDS server, by type URL.
//
// WDS (Address, Authorization) is the same for every ztunnel: each stream gets the packed map of
// the snapshot, filtered by the server to what the stream subscribed to. ztunnel subscribes to
// both types with a wildcard, so it receives every workload, service and policy of the mesh
// (Istio does the same unless on-demand Address lookups are enabled). Scoping by node would go
// here: the Proxy carries the ztunnel's node id (`ztunnel~<ip>~<pod>.<ns>~...`).
//
// The Envoy types (Listener, RouteConfiguration, Cluster, ClusterLoadAssignment, and SDS Secret for
// ingress gateways) are one set per waypoint, one per ingress gateway, and one for proxyless clients (per namespace with consumer routes), kept up to date
// incrementally by the pipeline's EnvoyOutputs. The generator is shared per proxy scope: the
// server calls it once per snapshot, type and scope (a waypoint's pods, a client namespace).
import { sharedGenerator, type GeneratedResources, type Generator, type Proxy } from '@trellis/xds';
import { LABEL_GATEWAY_NAME } from '../model/well-known.js';
import { ENVOY_TYPE_URLS, generateEnvoy } from '../translate/envoy/index.js';
import type { ServedSnapshot } from './served-snapshot.js';
import { WDS_TYPE_URLS } from './wds-resources.js';

const NONE: GeneratedResources = new Map();

// The same for every proxy: the xDS server calls it once per snapshot and type.
export const wdsGenerator: Generator<ServedSnapshot> = sharedGenerator(
  (typeUrl, snapshot: ServedSnapshot) => snapshot.wds.get(typeUrl) ?? NONE,
);

export const envoyGenerator: Generator<ServedSnapshot> = sharedGenerator(
  (typeUrl, snapshot: ServedSnapshot, proxy) =>
    generateEnvoy(typeUrl, snapshot.envoy, proxy, NO_CONTEXT, snapshot.envoyOutputs),
  envoyScope,
);

/**
 * Proxies that get the same Envoy set share one result: a waypoint by its namespace and Gateway
 * (node metadata LABELS, else its pod name), any other client by the namespace of its node id
 * (consumer routes differ per namespace).
 */
function envoyScope(proxy: Proxy): string {
  const node = proxy.istio;
  if (node?.type === 'waypoint' || node?.type === 'router') {
    const labels = proxy.metadata['LABELS'];
    const gateway =
      labels && typeof labels === 'object' && !Array.isArray(labels)
        ? labels[LABEL_GATEWAY_NAME]
        : undefined;
    return typeof gateway === 'string'
      ? `${node.type}\0${node.namespace}\0${gateway}`
      : `${node.type}-pod\0${node.namespace}\0${node.podName}`;
  }
  return `proxyless\0${node?.namespace ?? ''}`;
}

const NO_CONTEXT = {
  subscription: undefined as never,
  protocol: 'delta',
  snapshotVersion: '',
} as const;

export function controlPlaneGenerators(): Map<string, Generator<ServedSnapshot>> {
  return new Map<string, Generator<ServedSnapshot>>([
    ...WDS_TYPE_URLS.map((t) => [t, wdsGenerator] as const),
    ...ENVOY_TYPE_URLS.map((t) => [t, envoyGenerator] as const),
  ]);
}

/** Every type URL the control plane serves. */
export const SERVED_TYPE_URLS: readonly string[] = [...WDS_TYPE_URLS, ...ENVOY_TYPE_URLS];
export { ENVOY_TYPE_URLS };
