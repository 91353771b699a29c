// In-pod mode: pod netns fds from the CNI agent over ZDS, one proxy set per pod inside its netns.
export { netnsSocketOps } from './netns-socket-ops.js';
export {
  InpodManager,
  type InpodManagerOptions,
  type PodSpec,
  type RunningPod,
} from './pod-manager.js';
export { ZdsClient, type ZdsClientOptions, type ZdsClientEvents } from './zds-client.js';
export {
  decodeWorkloadRequest,
  encodeAck,
  encodeHello,
  type PodInfo,
  type ZdsRequest,
} from './zds-messages.js';
export { startInpod, startInpodMode, type InpodMode, type InpodOptions } from './start-inpod.js';
