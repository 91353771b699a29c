// What other packages' tests use from the waypoint's test support (subpath export
// @trellis/waypoint/test-support): test JWT issuers, an OTLP trace receiver, Prometheus sums, and
// the gateway tests' clients (HTTP, HTTPS with SNI reporting the presented certificate, raw TLS)
// and DNS-name certificates.
export { testIssuer, type TestIssuer } from './jwt.js';
export { decodeTraceExport, startOtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
export { metricSum } from './metric-sum.js';
export { request, type Reply } from './apps.js';
export {
  hostCert,
  httpsRequest,
  ingressRoot,
  tlsExchange,
  type HostCert,
  type TlsReply,
} from './gateway-clients.js';
