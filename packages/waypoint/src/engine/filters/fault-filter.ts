// envoy.filters.http.fault at request time: the route's override (typed_per_filter_config) or the
// filter's own settings; a delay holds the request (flag DI), an abort answers with the configured
// HTTP status or gRPC status (flag FI). max_active_faults bounds how many run at once.
import type { FaultConfig } from '../model/fault.js';
import type { HttpFilterModel } from '../model/listener.js';
import { headerSource } from '../convert/matchers.js';
import type { FilterResult, HttpFilterRuntime, LocalReply } from '../proxy/context.js';
import type { Exchange } from '../proxy/exchange.js';

type FaultModel = Extract<HttpFilterModel, { kind: 'fault' }>;

export function faultFilter(m: FaultModel, random: () => number): HttpFilterRuntime {
  let active = 0;
  const abort = (f: FaultConfig, ex: Exchange): LocalReply | undefined => {
    const a = f.abort;
    if (!a || random() >= a.fraction) return undefined;
    if ('grpcStatus' in a) {
      return {
        status: 200,
        body: 'fault filter abort',
        flag: 'FI',
        details: 'fault_filter_abort',
        grpcStatus: a.grpcStatus,
      };
    }
    void ex;
    return {
      status: a.httpStatus,
      body: 'fault filter abort',
      flag: 'FI',
      details: 'fault_filter_abort',
    };
  };
  return {
    name: m.name,
    disabledByDefault: m.disabled,
    decode(ex: Exchange): FilterResult {
      const f = ex.route?.perFilter.fault ?? ex.vhost?.perFilter.fault ?? m.fault;
      if (f.upstreamCluster !== undefined) {
        const action = ex.route?.action;
        if (
          action?.kind !== 'forward' ||
          !action.targets.some((t) => t.cluster === f.upstreamCluster)
        )
          return undefined;
      }
      if (f.headers.length > 0) {
        const r = ex.request;
        const src = headerSource(r.headers, {
          method: r.method,
          path: r.path,
          authority: r.authority,
          scheme: r.scheme,
        });
        if (!f.headers.every((h) => h(src))) return undefined;
      }
      if (f.maxActiveFaults !== undefined && active >= f.maxActiveFaults) return undefined;
      if (f.delay && f.delay.ms > 0 && random() < f.delay.fraction) {
        active++;
        ex.responseFlags = 'DI';
        return new Promise<LocalReply | undefined>((resolve) => {
          setTimeout(() => {
            active--;
            resolve(abort(f, ex));
          }, f.delay!.ms);
        });
      }
      return abort(f, ex);
    },
  };
}
