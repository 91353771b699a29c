// Test harnesses for Trellis: netns nodes and pods with in-pod redirection, the agent's side of ZDS.
export {
  NetnsCluster,
  applyInpodRules,
  type Node,
  type Pod,
  type AddPodOptions,
} from './netns-cluster.js';
export { ZdsServer, type ZdsPod } from './zds-server.js';
export { run, runIn, tryRun } from './run.js';
