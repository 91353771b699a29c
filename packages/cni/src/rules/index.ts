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
export {
  inpodNftablesRules,
  NFT_NAT_TABLE,
  NFT_MANGLE_TABLE,
  NFT_RAW_TABLE,
  NFT_INPOD_TABLES,
  type InpodNftOptions,
} from './inpod-nftables.js';
export { hostProbeNftablesRules, nftProbeSet, NFT_HOST_TABLE } from './host-probe-nftables.js';
export {
  parseIptables,
  planIptablesRestore,
  planIptablesRemoval,
  iptablesDrift,
  type IptablesState,
} from './iptables-state.js';
export {
  nftScriptCounts,
  nftListCounts,
  nftDrift,
  nftRemoval,
  type NftCounts,
} from './nftables-state.js';
