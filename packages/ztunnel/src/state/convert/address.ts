// istio.workload.Address (the WDS resource: a workload or a service) -> typed value, or the reason
// it is refused. Pure.
import type { Address as XdsAddress } from '@trellis/api/gen/istio/workload/workload_pb.js';
import type { Service, Workload } from '../model.js';
import type { Result } from '@trellis/core';
import { convertService } from './service.js';
import { convertWorkload } from './workload.js';

export type ConvertedAddress =
  | { readonly kind: 'workload'; readonly workload: Workload }
  | { readonly kind: 'service'; readonly service: Service };

export function convertAddress(msg: XdsAddress): Result<ConvertedAddress> {
  const t = msg.type;
  switch (t.case) {
    case 'workload': {
      const r = convertWorkload(t.value);
      return r.ok ? { ok: true, value: { kind: 'workload', workload: r.value } } : r;
    }
    case 'service': {
      const r = convertService(t.value);
      return r.ok ? { ok: true, value: { kind: 'service', service: r.value } } : r;
    }
    default:
      return { ok: false, reason: 'address has neither a workload nor a service' };
  }
}
