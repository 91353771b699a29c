// Resources for proxyless gRPC clients (gRFC A27/A28): for every TCP port of every Service, an API
// listener `<hostname>:<port>` (plus `<name>.<ns>:<port>` and `<name>.<ns>.svc:<port>`), the
// RouteConfiguration `<hostname>:<port>` from GAMMA routes, the EDS cluster
// `outbound|<port>||<hostname>` and its endpoints. The same set serves every proxyless client,
// except clients of a namespace with consumer routes (see route-attachment.ts).
import { updateSet } from './envoy-set.js';
import type { EnvoyResources } from './resources.js';
import type { EnvoyState } from './state.js';
import { workloadIndex } from './workload-index.js';

export { tcpPorts } from './service-resources.js';

/**
 * The proxyless set, built from nothing (`createEnvoyOutputs` builds it incrementally).
 * `clientNamespace`: the namespace of the clients the set is for, when known (Istio node ids name
 * it); their namespace's consumer routes replace the producer routes of the Services they name.
 */
export function proxylessResources(state: EnvoyState, clientNamespace?: string): EnvoyResources {
  return updateSet({ kind: 'proxyless', clientNamespace }, state, workloadIndex(state)).resources;
}
