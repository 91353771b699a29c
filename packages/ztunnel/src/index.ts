// Public surface of @trellis/ztunnel: the state store and its model, the validating converters,
// L4 authorization, local config, settings, metrics and the admin servers.
export * from './state/model.js';
export {
  StateStore,
  type KeyChanges,
  type LookupOptions,
  type StateChange,
  type StateDump,
  type StateListener,
  type StateUpdate,
  type StoreOptions,
  type WaypointTarget,
} from './state/store.js';
export {
  pickEndpoint,
  type Endpoint,
  type EndpointPick,
  type PickOptions,
} from './state/load-balance.js';
export { convertAddress, type ConvertedAddress } from './state/convert/address.js';
export { convertWorkload } from './state/convert/workload.js';
export { convertService } from './state/convert/service.js';
export { convertAuthorization } from './state/convert/authorization.js';
export {
  LocalConfigError,
  localConfigUpdate,
  parseLocalConfig,
  type LocalConfig,
} from './state/local-config.js';
export { LocalConfigFile } from './state/local-config-file.js';
export { authorize, type Decision, type DecisionReason } from './rbac/authorize.js';
export { policyMatches, stringMatches } from './rbac/match.js';
export { principalOf, type ConnectionAttributes } from './rbac/connection.js';
export {
  loadZtunnelConfig,
  parseLogLevels,
  processSource,
  ztunnelSettings,
  type LogLevels,
  type ZtunnelConfig,
} from './config.js';
export {
  createTrafficMetrics,
  trafficLabels,
  type ResponseFlags,
  type TrafficMetrics,
  type TrafficParties,
} from './metrics.js';
export { createAdminServer, type AdminOptions } from './admin/admin-server.js';
export {
  configDump,
  type CertificateProvider,
  type CertificateSummary,
  type ConfigDump,
} from './admin/config-dump.js';
export { Readiness } from './admin/readiness.js';
export { createReadinessServer, READINESS_PATH } from './admin/readiness-server.js';
export { listen } from './admin/listen.js';

// Proxies, identity, WDS client, access log.
export {
  createHostSocketOps,
  hostSocketOps,
  mappedDestinationOpsForTest,
  ZTUNNEL_MARK,
  type HostSocketOpsOptions,
  type SocketOps,
} from './proxy/socket-ops.js';
export {
  DEFAULT_PORTS,
  startProxySet,
  startAllWorkloadsProxySet,
  type PodProxySpec,
  type ProxySet,
  type AllWorkloadsListenAddresses,
} from './proxy/proxy-set.js';
export {
  LISTENER_KINDS,
  podHandlers,
  allWorkloadsHandlers,
  type ListenerKind,
  type ProxyHandlers,
} from './proxy/proxy-handlers.js';
export {
  openListeners,
  podAddresses,
  type ListenAddresses,
  type ListenerSet,
} from './proxy/listeners.js';
export { WorkerPool, type WorkerPoolOptions } from './workers/worker-pool.js';
export { startDispatchedPodSet, startDispatchedAllWorkloadsSet } from './workers/dispatched-set.js';
export {
  formatPrometheusText,
  mergeFamilies,
  mergePrometheusTexts,
  monotonicFamilies,
  parsePrometheusText,
  type Family,
} from './workers/prometheus-merge.js';
export { changeUpdate, snapshotUpdate } from './workers/state-forward.js';
export {
  refreshAt,
  remoteIdentityManager,
  type RemoteIdentityOptions,
} from './workers/remote-identity.js';
export { ALL_WORKLOADS_SET, type FromWorker, type ToWorker } from './workers/messages.js';
export { createMetricsServer } from './admin/metrics-server.js';
export {
  unusedPodIdentity,
  WorkloadIdentities,
  podSpiffeId,
} from './identity/unused-identities.js';
export {
  createZtunnelContext,
  type ProxySettings,
  type ZtunnelContext,
  type ZtunnelContextOptions,
} from './proxy/context.js';
export { routeOutbound, type OutboundRoute } from './proxy/outbound-route.js';
export {
  decideInbound,
  type InboundAttempt,
  type InboundDecision,
} from './proxy/inbound-policy.js';
export {
  createCaIdentityManager,
  type CaIdentityOptions,
  type IdentityManager,
} from './identity/identity-manager.js';
export {
  startXdsSource,
  ztunnelNodeId,
  type XdsSource,
  type XdsSourceOptions,
} from './xds/xds-source.js';
export { addressHandler, authorizationHandler } from './xds/handlers.js';
export { xdsCredentials } from './xds/credentials.js';
export {
  recordConnection,
  type AccessLogEntry,
  type AccessLogSink,
  type ConnectionRecord,
} from './access-log/connection-record.js';
export { loggerSink } from './access-log/sink.js';
