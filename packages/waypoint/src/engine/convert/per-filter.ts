// typed_per_filter_config (route, virtual host) -> per-route filter overrides: fault settings,
// CORS policies, filters disabled for the route. Unknown override types are refused unless marked optional. Pure.
import type { Any } from '@bufbuild/protobuf/wkt';
import { FilterConfigSchema } from '@trellis/api/gen/envoy/config/route/v3/route_components_pb.js';
import { CorsPolicySchema } from '@trellis/api/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { HTTPFaultSchema } from '@trellis/api/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { RBACPerRouteSchema } from '@trellis/api/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { isMessage } from '@bufbuild/protobuf';
import type { PerFilterConfig } from '../model/route.js';
import type { FaultConfig } from '../model/fault.js';
import { anyTypeName, invalid, unpackTyped } from './common.js';
import { corsPolicy } from './cors.js';
import { faultConfig } from './fault.js';
import type { CorsPolicyModel } from '../model/cors.js';

const EMPTY: PerFilterConfig = { disabled: new Set() };

export function perFilterConfig(map: { [key: string]: Any }, field: string): PerFilterConfig {
  const names = Object.keys(map);
  if (names.length === 0) return EMPTY;
  const disabled = new Set<string>();
  let fault: FaultConfig | undefined;
  let cors: CorsPolicyModel | undefined;
  for (const name of names) {
    const f = `${field}[${name}]`;
    let any = map[name]!;
    let optional = false;
    if (anyTypeName(any) === FilterConfigSchema.typeName) {
      const fc = unpackTyped(any, f);
      if (!isMessage(fc, FilterConfigSchema)) invalid(f, 'bad FilterConfig');
      if (fc.disabled) {
        disabled.add(name);
        continue;
      }
      optional = fc.isOptional;
      if (!fc.config) continue;
      any = fc.config;
    }
    const typeName = anyTypeName(any);
    if (typeName === HTTPFaultSchema.typeName) {
      const m = unpackTyped(any, f);
      if (isMessage(m, HTTPFaultSchema)) fault = faultConfig(m, f);
    } else if (typeName === CorsPolicySchema.typeName) {
      const m = unpackTyped(any, f);
      if (isMessage(m, CorsPolicySchema)) cors = corsPolicy(m, f);
    } else if (typeName === RBACPerRouteSchema.typeName) {
      const m = unpackTyped(any, f);
      if (isMessage(m, RBACPerRouteSchema)) {
        if (m.rbac) invalid(f, 'RBACPerRoute with its own rbac is not supported (only disabling)');
        disabled.add(name);
      }
    } else if (!optional) {
      invalid(f, `override type ${typeName} is not supported`);
    }
  }
  return { ...(fault ? { fault } : {}), ...(cors ? { cors } : {}), disabled };
}
