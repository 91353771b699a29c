// envoy.filters.http.fault HTTPFault -> FaultConfig (the filter's own config and per-route
// overrides). Header-controlled delays and aborts are refused: Trellis has no use for them. Pure.
import type { HTTPFault } from '@trellis/api/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import type { FaultConfig } from '../model/fault.js';
import { durationMs, invalid } from './common.js';
import { headerMatcher } from './matchers.js';
import { fraction } from './percent.js';

export function faultConfig(f: HTTPFault, field: string): FaultConfig {
  let delay: FaultConfig['delay'];
  if (f.delay) {
    const s = f.delay.faultDelaySecifier;
    if (s.case !== 'fixedDelay')
      invalid(`${field}.delay`, 'only fixed_delay is supported (no header_delay)');
    delay = {
      ms: durationMs(s.value, `${field}.delay.fixed_delay`) ?? 0,
      fraction: fraction(f.delay.percentage, `${field}.delay.percentage`),
    };
  }
  let abort: FaultConfig['abort'];
  if (f.abort) {
    const e = f.abort.errorType;
    const frac = fraction(f.abort.percentage, `${field}.abort.percentage`);
    if (e.case === 'httpStatus') {
      if (e.value < 200 || e.value > 599)
        invalid(`${field}.abort.http_status`, `${e.value} is not in 200..599`);
      abort = { httpStatus: e.value, fraction: frac };
    } else if (e.case === 'grpcStatus') {
      if (e.value > 16) invalid(`${field}.abort.grpc_status`, `${e.value} is not a gRPC status`);
      abort = { grpcStatus: e.value, fraction: frac };
    } else {
      invalid(`${field}.abort`, 'only http_status and grpc_status are supported');
    }
  }
  if (f.downstreamNodes.length > 0)
    invalid(`${field}.downstream_nodes`, 'not supported (Trellis does not label downstream nodes)');
  if (f.responseRateLimit) invalid(`${field}.response_rate_limit`, 'not supported');
  return {
    ...(delay ? { delay } : {}),
    ...(abort ? { abort } : {}),
    headers: f.headers.map((h, i) => headerMatcher(h, `${field}.headers[${i}]`)),
    ...(f.upstreamCluster !== '' ? { upstreamCluster: f.upstreamCluster } : {}),
    ...(f.maxActiveFaults !== undefined ? { maxActiveFaults: f.maxActiveFaults } : {}),
  };
}
