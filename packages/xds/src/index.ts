// Public surface of @trellis/xds: a generic xDS server (SotW + delta ADS, debounce, immutable
// snapshots, per-connection push queues, generators keyed by type URL) and client.

// Server.
export {
  addAdsService,
  createXdsServer,
  ENVOY_REMOVAL_ORDER,
  type AdsHandlers,
  type XdsServer,
  type XdsServerOptions,
} from './server/server.js';
export type {
  ConnectionDebug,
  GenerateContext,
  GeneratedResource,
  GeneratedResources,
  Generator,
  IstioNodeId,
  Proxy,
  SnapshotUpdate,
  TypeDebug,
} from './server/types.js';
export { parseIstioNodeId } from './server/proxy.js';
export type { NodeAdmission } from './server/connection.js';
export type { ChangeTracking } from './server/resource-index.js';
export {
  resourceSnapshotGenerator,
  sharedGenerator,
  staticGenerator,
  type ResourceSnapshot,
} from './server/generators.js';
export { metricType } from './server/metrics.js';

// Client.
export { createDeltaClient } from './client/delta-client.js';
export { createSotwClient } from './client/sotw-client.js';
export { protoDecoder } from './client/decode.js';
export { DEFAULT_MAX_RECEIVE_BYTES } from './client/ads-client.js';
export type {
  ConnectionState,
  ResourceChange,
  ResourceHandler,
  Watch,
  XdsClient,
  XdsClientOptions,
} from './client/types.js';

// Shared.
export { emptyMeansWildcard, WILDCARD, type Subscription } from './subscription.js';
export { contentVersion, resourceVersion } from './versioning.js';
