// Test harnesses for Trellis: netns nodes and pods with in-pod redirection, the agent's side of ZDS,
// and the real CA and ztunnel binaries spawned inside those namespaces.
export {
  NetnsCluster,
  applyInpodRules,
  type Node,
  type Pod,
  type AddPodOptions,
} from './netns-cluster.js';
export { ZdsServer, type ZdsPod } from './zds-server.js';
export { run, runIn, tryRun } from './run.js';
export { httpInNetns, type HttpResult } from './http-in-netns.js';
export {
  meshLocalConfig,
  meshTokens,
  podWorkload,
  ztunnelToken,
  ZTUNNEL_NAMESPACE,
  ZTUNNEL_SERVICE_ACCOUNT,
  type LocalPolicy,
  type StaticToken,
} from './mesh-config.js';
export {
  startCaIn,
  startControlPlaneIn,
  ZtunnelProcess,
  CA_MAIN,
  ZTUNNEL_MAIN,
  ADMIN_PORT,
  METRICS_PORT,
  READINESS_PORT,
  type CaProcess,
  type ZtunnelOptions,
} from './mesh-processes.js';
export { Mesh, type MeshNode, type MeshOptions } from './mesh.js';
export { Spawned, type LogLine } from '@trellis/core/test-support';
export { startCoreDnsIn, type CoreDns } from './coredns.js';
export { CniCluster, cniAgentManifests, CNI_SYSTEM_NAMESPACE, AGENT_LABEL } from './cni-cluster.js';
export {
  cniEnv,
  CniPluginError,
  invokePlugin,
  runChain,
  type CniCall,
  type CniRuntimeOptions,
  type Conflist,
  type PluginRun,
} from './cni-runtime.js';
