// Test support: runs every stage that reads an admitted snapshot (full and incremental
// derivation, WDS translation and packing, route attachment, the Envoy sets of every waypoint and
// of proxyless clients in every namespace, of every ingress gateway, the statuses the controllers would write, configz),
// so that tests can check that nothing throws on any input ingest lets through.
import { createMeshStateDeriver } from '../collections/incremental-mesh-state.js';
import { deriveMeshState } from '../collections/mesh-state.js';
import { desiredStatuses } from '../controllers/desired-status.js';
import { configz } from '../debug/configz.js';
import type { ClusterSnapshot } from '../model/kube.js';
import type { ServedSnapshot } from '../server/served-snapshot.js';
import { packWds } from '../server/wds-resources.js';
import {
  proxylessResources,
  routeAttachments,
  waypointResources,
  withRoutes,
} from '../translate/envoy/index.js';
import { createStateTranslator, translateState } from '../translate/index.js';
import { ingressGateways } from '../translate/envoy/gateway-listeners.js';
import { gatewayResources } from '../translate/envoy/gateway-resources.js';
import { workloadIndex } from '../translate/envoy/workload-index.js';

/** Everything derived from `snapshot`, after deriving `before` first (to exercise the incremental path). */
export function runAllStages(snapshot: ClusterSnapshot, before?: ClusterSnapshot): void {
  const deriver = createMeshStateDeriver();
  const translator = createStateTranslator();
  if (before) translator.translate(deriver.derive(before));
  const state = deriver.derive(snapshot);
  const full = deriveMeshState(snapshot);
  const wds = translator.translate(state);
  packWds(wds);
  translateState(full);
  const envoy = withRoutes(state, snapshot);
  const attachments = routeAttachments(envoy);
  proxylessResources(envoy);
  for (const ns of attachments.consumerNamespaces) proxylessResources(envoy, ns);
  for (const w of state.waypoints.values()) waypointResources(envoy, w);
  const index = workloadIndex(envoy);
  for (const gw of ingressGateways(envoy).values()) gatewayResources(envoy, gw, index);
  const served: ServedSnapshot = {
    generation: 1,
    builtAt: new Date(0),
    cluster: snapshot,
    state,
    envoy,
    wds: packWds(wds),
    notes: wds.notes,
    rejected: [],
  };
  desiredStatuses(served, new Date(0));
  JSON.stringify(configz({ snapshot: served, servedVersion: '1', source: 'test' }));
}
