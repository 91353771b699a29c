// HttpConnectionManager and its HTTP filters -> HttpManagerConfig. The filters Trellis implements
// are RBAC, fault, CORS, JWT authn and the router (last); any other filter is refused unless it is marked
// optional, so a control plane never believes a filter runs that does not. Pure.
import { isMessage, type Message } from '@bufbuild/protobuf';
import {
  HttpConnectionManager_CodecType as Codec,
  HttpConnectionManagerSchema,
  type HttpConnectionManager,
  type HttpFilter,
} from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { CorsSchema } from '@trellis/api/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { HTTPFaultSchema } from '@trellis/api/gen/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import { JwtAuthenticationSchema } from '@trellis/api/gen/envoy/extensions/filters/http/jwt_authn/v3/config_pb.js';
import { RBACSchema as HttpRbacSchema } from '@trellis/api/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { RouterSchema } from '@trellis/api/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { jwtAuthnConfig } from '../jwt/convert.js';
import type { HttpFilterModel, HttpManagerConfig } from '../model/listener.js';
import { compileRbac } from '../rbac/compile.js';
import { durationMs, invalid, unpackTyped } from './common.js';
import { faultConfig } from './fault.js';
import { percent } from './percent.js';
import { routeTable } from './route-config.js';

/** Envoy's stream idle timeout default. */
const STREAM_IDLE_TIMEOUT_MS = 5 * 60_000;
/** Envoy's HTTP connection idle timeout default (1 hour). */
const CONNECTION_IDLE_TIMEOUT_MS = 60 * 60_000;

export function httpManager(m: Message, field: string): HttpManagerConfig {
  if (!isMessage(m, HttpConnectionManagerSchema)) invalid(field, 'not an HttpConnectionManager');
  return hcm(m, field);
}

function hcm(h: HttpConnectionManager, field: string): HttpManagerConfig {
  let routeConfigName: string | undefined;
  let routeConfig: HttpManagerConfig['routeConfig'];
  const r = h.routeSpecifier;
  if (r.case === 'rds') {
    if (r.value.routeConfigName === '') invalid(`${field}.rds.route_config_name`, 'is empty');
    const src = r.value.configSource?.configSourceSpecifier.case;
    if (src !== undefined && src !== 'ads')
      invalid(`${field}.rds.config_source`, `only ADS is supported (got ${src})`);
    routeConfigName = r.value.routeConfigName;
  } else if (r.case === 'routeConfig') {
    routeConfig = routeTable(r.value, `${field}.route_config`);
  } else {
    invalid(
      field,
      `route specifier ${String(r.case ?? '(none)')} is not supported (rds or route_config)`,
    );
  }
  let codec: HttpManagerConfig['codec'];
  switch (h.codecType) {
    case Codec.AUTO:
      codec = 'auto';
      break;
    case Codec.HTTP1:
      codec = 'http1';
      break;
    case Codec.HTTP2:
      codec = 'http2';
      break;
    default:
      invalid(`${field}.codec_type`, `codec ${h.codecType} is not supported (AUTO, HTTP1, HTTP2)`);
  }
  if (h.httpFilters.length === 0) invalid(`${field}.http_filters`, 'the router filter is required');
  const filters: HttpFilterModel[] = [];
  for (const [i, f] of h.httpFilters.entries()) {
    const model = httpFilter(f, `${field}.http_filters[${i}](${f.name})`);
    if (model) filters.push(model);
  }
  const routerAt = filters.findIndex((f) => f.kind === 'router');
  if (routerAt !== filters.length - 1)
    invalid(`${field}.http_filters`, 'the router must be the last filter (and only there)');
  const upgrades = new Set<string>();
  for (const [i, u] of h.upgradeConfigs.entries()) {
    if (u.filters.length > 0) invalid(`${field}.upgrade_configs[${i}].filters`, 'not supported');
    if (u.enabled !== false) upgrades.add(u.upgradeType.toLowerCase());
  }
  // Only the address of the connection itself is trusted: hops in x-forwarded-for are not counted.
  if (h.xffNumTrustedHops !== 0)
    invalid(`${field}.xff_num_trusted_hops`, `${h.xffNumTrustedHops} is not supported (0 only)`);
  const t = h.tracing;
  const tracingSampling = t
    ? percent(t.randomSampling, 1) * percent(t.overallSampling, 1)
    : undefined;
  return {
    statPrefix: h.statPrefix,
    ...(routeConfigName !== undefined ? { routeConfigName } : {}),
    ...(routeConfig ? { routeConfig } : {}),
    filters,
    codec,
    normalizePath: h.normalizePath ?? false,
    mergeSlashes: h.mergeSlashes,
    streamIdleTimeoutMs:
      durationMs(h.streamIdleTimeout, `${field}.stream_idle_timeout`) ?? STREAM_IDLE_TIMEOUT_MS,
    requestTimeoutMs: durationMs(h.requestTimeout, `${field}.request_timeout`) ?? 0,
    idleTimeoutMs:
      durationMs(
        h.commonHttpProtocolOptions?.idleTimeout,
        `${field}.common_http_protocol_options.idle_timeout`,
      ) ?? CONNECTION_IDLE_TIMEOUT_MS,
    maxRequestHeadersKb: h.maxRequestHeadersKb ?? 60,
    generateRequestId: h.generateRequestId ?? true,
    preserveExternalRequestId: h.preserveExternalRequestId,
    serverName: h.serverName,
    upgrades,
    ...(tracingSampling !== undefined ? { tracingSampling } : {}),
    stripAnyHostPort: h.stripPortMode.case === 'stripAnyHostPort' && h.stripPortMode.value,
    useRemoteAddress: h.useRemoteAddress ?? false,
    skipXffAppend: h.skipXffAppend,
  };
}

/** undefined: an optional filter Trellis does not implement, skipped as Envoy would. */
function httpFilter(f: HttpFilter, field: string): HttpFilterModel | undefined {
  if (f.configType.case !== 'typedConfig') {
    if (f.isOptional) return undefined;
    invalid(field, 'typed_config is required (config discovery is not supported)');
  }
  let m: Message;
  try {
    m = unpackTyped(f.configType.value, `${field}.typed_config`);
  } catch (err) {
    if (f.isOptional) return undefined;
    throw err;
  }
  const disabled = f.disabled;
  if (isMessage(m, RouterSchema)) return { kind: 'router', name: f.name, disabled: false };
  if (isMessage(m, HttpRbacSchema)) {
    if (m.matcher || m.shadowMatcher)
      invalid(field, 'RBAC matchers (the generic matcher API) are not supported; use rules');
    return {
      kind: 'rbac',
      name: f.name,
      ...(m.rules ? { rules: compileRbac(m.rules, `${field}.rules`) } : {}),
      ...(m.shadowRules ? { shadow: compileRbac(m.shadowRules, `${field}.shadow_rules`) } : {}),
      shadowStatPrefix: m.shadowRulesStatPrefix,
      disabled,
    };
  }
  if (isMessage(m, HTTPFaultSchema))
    return { kind: 'fault', name: f.name, fault: faultConfig(m, field), disabled };
  if (isMessage(m, CorsSchema)) return { kind: 'cors', name: f.name, disabled };
  if (isMessage(m, JwtAuthenticationSchema))
    return { kind: 'jwt', name: f.name, jwt: jwtAuthnConfig(m, field), disabled };
  if (f.isOptional) return undefined;
  invalid(field, `filter type ${m.$typeName} is not supported`);
}
