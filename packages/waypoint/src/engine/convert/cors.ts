// envoy.extensions.filters.http.cors.v3.CorsPolicy (typed_per_filter_config) -> CorsPolicyModel.
// Refuses what Trellis would not honour (runtime-fraction enabling, shadowing, private network
// access) and malformed lists, with the field and the reason. Pure.
import type { CorsPolicy } from '@trellis/api/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import type { CorsPolicyModel } from '../model/cors.js';
import { invalid } from './common.js';
import { stringMatcher } from './matchers.js';

const TOKEN_LIST = /^\s*(\*|[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*)?\s*$/;

export function corsPolicy(p: CorsPolicy, field: string): CorsPolicyModel {
  if (p.filterEnabled)
    invalid(`${field}.filter_enabled`, 'not supported (the policy always applies)');
  if (p.shadowEnabled) invalid(`${field}.shadow_enabled`, 'not supported');
  if (p.allowPrivateNetworkAccess)
    invalid(`${field}.allow_private_network_access`, 'not supported');
  for (const [name, value] of [
    ['allow_methods', p.allowMethods],
    ['allow_headers', p.allowHeaders],
    ['expose_headers', p.exposeHeaders],
  ] as const)
    if (!TOKEN_LIST.test(value))
      invalid(`${field}.${name}`, `"${value}" is not "*" or a comma-separated list of tokens`);
  if (p.maxAge !== '' && !/^[0-9]{1,10}$/.test(p.maxAge))
    invalid(`${field}.max_age`, `"${p.maxAge}" is not a number of seconds`);
  return {
    origins: p.allowOriginStringMatch.map((m, i) =>
      stringMatcher(m, `${field}.allow_origin_string_match[${i}]`),
    ),
    allowMethods: p.allowMethods.trim(),
    allowHeaders: p.allowHeaders.trim(),
    exposeHeaders: p.exposeHeaders.trim(),
    maxAge: p.maxAge,
    allowCredentials: p.allowCredentials ?? false,
    forwardNotMatchingPreflights: p.forwardNotMatchingPreflights ?? true,
  };
}
