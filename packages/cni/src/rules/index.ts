// In-pod redirection rules: pure builders (iptables-restore text, ip commands, backend detection).
export * from './constants.js';
export {
  inpodIptablesRules,
  PREROUTING_CHAIN,
  OUTPUT_CHAIN,
  type InpodRulesOptions,
} from './inpod-iptables.js';
export { inpodRouteCommands } from './inpod-routes.js';
export { hostProbeRules, HOST_POSTROUTING_CHAIN, type HostProbeOptions } from './host-probe.js';
export {
  parseIptablesVersion,
  restoreCommand,
  type IptablesBackend,
  type IptablesVersion,
} from './iptables-backend.js';
