// Public surface of @trellis/control-plane (the pure core also has subpath exports: /model,
// /collections, /translate, /ingest).
export {
  controlPlaneSettings,
  loadControlPlaneConfig,
  type ControlPlaneConfig,
  type SourceConfig,
} from './config.js';
export {
  startControlPlane,
  type RunningControlPlane,
  type StartOptions,
} from './server/control-plane.js';
export {
  createPipeline,
  type Pipeline,
  type PipelineOptions,
  type PipelineTimings,
} from './server/pipeline.js';
export type { ServedSnapshot } from './server/served-snapshot.js';
export { controlPlaneGenerators, SERVED_TYPE_URLS } from './server/generators.js';
export { packWds, changedWdsTypes, WDS_TYPE_URLS, type PackedWds } from './server/wds-resources.js';
export {
  authenticatedAdsHandlers,
  authenticateXdsCall,
  callerFromSubjectAltName,
  type XdsCaller,
} from './server/xds-auth.js';
export { nodeIdentityRefusal, type AuthenticatedIdentity } from './server/node-identity.js';
export { watchCluster, type ClusterWatch, type WatchClusterOptions } from './ingest/kube.js';
export {
  startControllers,
  type Controllers,
  type ControllersOptions,
} from './controllers/index.js';
export {
  waypointObjects,
  type WaypointDeploymentOptions,
  type WaypointObjects,
} from './controllers/waypoint-objects.js';
export { gatewayObjects, gatewayParameters } from './controllers/gateway-objects.js';
export {
  SUPPORTED_FEATURES,
  INGRESS_GATEWAY_CLASSES,
  gatewayClassStatus,
} from './controllers/gateway-class-status.js';
export { GATEWAY_CONTROLLER_NAME } from './controllers/route-status.js';
export { desiredStatuses, type StatusWrite } from './controllers/desired-status.js';
export { syncz, type SynczEntry } from './debug/syncz.js';
export { configz } from './debug/configz.js';
