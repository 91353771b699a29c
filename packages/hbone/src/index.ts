// Public surface of @trellis/hbone: the HBONE server and pooled client (HTTP/2 CONNECT over mutual
// TLS on port 15008) that ztunnel and waypoints carry every tunneled TCP connection through.
export {
  HboneServer,
  type HboneServerEvents,
  type HboneServerOptions,
  type ServerCertificate,
} from './server.js';
export {
  dialTcp,
  type ConnectDecision,
  type ConnectRequest,
  type Dial,
  type Terminate,
  type TunnelHeaders,
  type TunnelStats,
} from './server-stream.js';
export { HboneClient, type ConnectOptions, type HboneClientOptions } from './client.js';
export {
  connectTcp,
  type ClientCredentials,
  type SocketFactory,
  type SocketRequest,
} from './connection.js';
export { TunnelStream, type ByteCounter } from './tunnel-stream.js';
export { splice, reset, type SpliceResult } from './splice.js';
export { HboneConnectError, HboneStatusError, TunnelResetError, rstCodeName } from './errors.js';
export { HboneMetrics, METRIC_NAMES, type Direction } from './metrics.js';
export { formatAuthority, parseAuthority, type Endpoint, type Target } from './authority.pure.js';
export { formatForwardedFor, parseForwardedFor } from './forwarded.pure.js';
export { ConnectionBudget } from './connection-budget.js';
export * from './settings.js';
