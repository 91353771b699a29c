// Public surface of @trellis/local-cluster.
export {
  createCluster,
  deleteCluster,
  listClusters,
  adminKubeconfigPath,
  clusterRssBytes,
  layoutOf,
  restartNodeEmulator,
  restartLbController,
  type ClusterInfo,
  type CreateOptions,
} from './cluster.js';
export {
  kubeBinDir,
  requireKubeBinaries,
  builtGoTool,
  goToolBinDir,
  BUILD_SCRIPT,
  KUBE_BINARIES,
} from './paths.js';
export { KubeClient, KubeError, type KubeCredentials, type WatchEvent } from './kube-client.js';
export {
  clusterLayout,
  podNetnsName,
  validateClusterName,
  type ClusterLayout,
  type NodeLayout,
} from './layout.pure.js';
export {
  inRange,
  parseLbRange,
  rangeConflict,
  requestableAddresses,
  type LbRange,
} from './lb-controller/range.pure.js';
export { deleteLbRoute, hostRoutes, lbRoutes } from './lb-controller/host-routes.js';
export {
  lbControllerLogFile,
  startLbControllerDaemon,
  stopLbControllerDaemon,
} from './lb-controller/daemon.js';
export type { LbControllerConfig } from './lb-controller/controller.js';
export { lbControllerRbac } from './bootstrap-objects.pure.js';
export { LB_CONTROLLER_USER } from './pki-specs.pure.js';
export { kubectlFor, type Kubectl, type KubeObject } from './kubectl.js';
export { anonBytes, descendants, rssBytes } from './processes.js';
export { run, type ExecOptions, type ExecResult } from './exec.js';
export { pluginEnv, type CniPodRef } from './cni.pure.js';
export { pluginCommand, type NodeFs } from './cni.js';
