// Fault injection for a route, from annotations on its HTTPRoute or GRPCRoute (Gateway API has no
// fault filter; Istio has it on VirtualService). Every rule of the route gets them:
//   fault.trellis.dev/delay: "2s"               fixed delay (Gateway API duration)
//   fault.trellis.dev/delay-percent: "50"       share of requests delayed (default 100)
//   fault.trellis.dev/abort: "503"              HTTP status to answer with (200-599)
//   fault.trellis.dev/abort-grpc-status: "14"   or a gRPC status (0-16)
//   fault.trellis.dev/abort-percent: "10"       share of requests aborted (default 100)
// They become the route's typed_per_filter_config for envoy.filters.http.fault; the chain then
// carries that filter. Values that do not parse are reported and the fault is left out. Pure.
import { create } from '@bufbuild/protobuf';
import {
  FaultAbortSchema,
  HTTPFaultSchema,
  type HTTPFault,
} from '@trellis/api/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { FaultDelaySchema } from '@trellis/api/gen/envoy/extensions/filters/common/fault/v3/fault_pb.js';
import {
  FractionalPercent_DenominatorType,
  FractionalPercentSchema,
} from '@trellis/api/gen/envoy/type/v3/percent_pb.js';
import type { RouteConfiguration } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { type HttpFilter } from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { durationFromMs, parseGatewayDuration } from './duration.js';
import { perRouteFilter, routesConfigure } from './listeners.js';

export const FAULT_FILTER = 'envoy.filters.http.fault';
export const FAULT_ANNOTATIONS = {
  delay: 'fault.trellis.dev/delay',
  delayPercent: 'fault.trellis.dev/delay-percent',
  abort: 'fault.trellis.dev/abort',
  abortGrpc: 'fault.trellis.dev/abort-grpc-status',
  abortPercent: 'fault.trellis.dev/abort-percent',
} as const;

function percent(v: string | undefined): number | undefined {
  if (v === undefined) return 100;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 && n <= 100 ? n : undefined;
}

function fraction(p: number) {
  return create(FractionalPercentSchema, {
    numerator: Math.round(p * 10_000),
    denominator: FractionalPercent_DenominatorType.MILLION,
  });
}

/** The fault of a route object, a problem text, or undefined when it has no fault annotation. */
export function faultFromAnnotations(
  annotations: Readonly<Record<string, string>> | undefined,
): HTTPFault | string | undefined {
  const a = annotations ?? {};
  const delay = a[FAULT_ANNOTATIONS.delay];
  const abort = a[FAULT_ANNOTATIONS.abort];
  const grpc = a[FAULT_ANNOTATIONS.abortGrpc];
  if (delay === undefined && abort === undefined && grpc === undefined) return undefined;
  const fault = create(HTTPFaultSchema);
  if (delay !== undefined) {
    const ms = parseGatewayDuration(delay);
    const p = percent(a[FAULT_ANNOTATIONS.delayPercent]);
    if (ms === undefined) return `${FAULT_ANNOTATIONS.delay} "${delay}" is not a duration`;
    if (p === undefined) return `${FAULT_ANNOTATIONS.delayPercent} must be a number 0-100`;
    fault.delay = create(FaultDelaySchema, {
      faultDelaySecifier: { case: 'fixedDelay', value: durationFromMs(ms) },
      percentage: fraction(p),
    });
  }
  if (abort !== undefined || grpc !== undefined) {
    const p = percent(a[FAULT_ANNOTATIONS.abortPercent]);
    if (p === undefined) return `${FAULT_ANNOTATIONS.abortPercent} must be a number 0-100`;
    if (abort !== undefined) {
      const status = Number(abort);
      if (!/^\d{3}$/.test(abort) || status < 200 || status > 599)
        return `${FAULT_ANNOTATIONS.abort} "${abort}" is not an HTTP status 200-599`;
      fault.abort = create(FaultAbortSchema, {
        errorType: { case: 'httpStatus', value: status },
        percentage: fraction(p),
      });
    } else {
      const code = Number(grpc);
      if (!/^\d{1,2}$/.test(grpc!) || code > 16)
        return `${FAULT_ANNOTATIONS.abortGrpc} "${grpc}" is not a gRPC status 0-16`;
      fault.abort = create(FaultAbortSchema, {
        errorType: { case: 'grpcStatus', value: code },
        percentage: fraction(p),
      });
    }
  }
  return fault;
}

/** Whether a route of `config` carries a fault (its chain then needs the fault filter). */
export function usesFault(config: RouteConfiguration): boolean {
  return routesConfigure(config, FAULT_FILTER);
}

/** The chain's fault filter: empty, each route's typed_per_filter_config says what to inject. */
export function faultFilter(): HttpFilter {
  return perRouteFilter(FAULT_FILTER, HTTPFaultSchema);
}
