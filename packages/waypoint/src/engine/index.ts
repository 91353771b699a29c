// The L7 engine as a library: configuration from Envoy xDS, HTTP/1.1 (own codec), HTTP/2 and gRPC
// (node:http2), routing, filters (RBAC, JWT, fault), upstream clusters (balancing, outlier
// detection, circuit breakers, retries, timeouts, mirrors), TCP proxying and telemetry. A role
// (the waypoint, a gateway) supplies where connections come from and a Connector for upstreams.
export { Engine, type EngineOptions, type ChainRuntime } from './engine.js';
export { XdsConfig, type XdsConfigStatus } from './xds-config.js';
export type {
  ConnectionInfo,
  Downstream,
  EngineServices,
  HttpChain,
  LocalReply,
} from './proxy/context.js';
export type { Connector, UpstreamStream } from './upstream/stream.js';
export type { EndpointConfig, ClusterConfig } from './model/cluster.js';
export { AccessLog, type AccessLogSink } from './telemetry/access-log.js';
export { RequestTracer } from './telemetry/tracing.js';
export { RequestMetrics } from './telemetry/request-metrics.js';
export { peerLabels, UNKNOWN_PEER, type PeerLabels } from './telemetry/peer.js';
export { clusterStatsText, clustersDump } from './upstream/cluster-stats.js';
export { JwksCache } from './jwt/jwks-cache.js';
