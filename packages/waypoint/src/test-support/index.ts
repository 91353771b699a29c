// What other packages' tests use from the waypoint's test support (subpath export
// @trellis/waypoint/test-support): test JWT issuers, an OTLP trace receiver, Prometheus sums.
export { testIssuer, type TestIssuer } from './jwt.js';
export { decodeTraceExport, startOtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
export { metricSum } from './metric-sum.js';
