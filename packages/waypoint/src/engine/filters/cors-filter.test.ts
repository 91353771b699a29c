// The CORS policy at the xDS edge (what is refused, with which field) and the headers the filter
// answers a preflight or decorates a response with.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { CorsPolicySchema } from '@trellis/api/gen/envoy/extensions/filters/http/cors/v3/cors_pb.js';
import { corsPolicy } from '../convert/cors.js';
import { convert } from '../convert/common.js';
import { preflightHeaders, simpleHeaders } from './cors-filter.js';

const FIELD = 'route.typed_per_filter_config[envoy.filters.http.cors]';
const policy = (p: MessageInitShape<typeof CorsPolicySchema>) =>
  convert(() => corsPolicy(create(CorsPolicySchema, p), FIELD));

const regex = (v: string) => ({
  matchPattern: { case: 'safeRegex' as const, value: { regex: v } },
  ignoreCase: true,
});

test('origins: exact (any case) and the control plane\'s "*." pattern', () => {
  const c = policy({
    allowOriginStringMatch: [
      { matchPattern: { case: 'exact', value: 'https://www.foo.com' }, ignoreCase: true },
      regex('https://[^/:]+\\.bar\\.com'),
    ],
  });
  assert.ok(c.ok);
  const allowed = (o: string) => c.value.origins.some((m) => m(o));
  assert.ok(allowed('https://www.foo.com'));
  assert.ok(allowed('HTTPS://WWW.FOO.COM'));
  assert.ok(allowed('https://a.b.bar.com'));
  assert.ok(!allowed('https://bar.com'));
  assert.ok(!allowed('https://www.bar.com:8443'));
  assert.ok(!allowed('https://evil.com/.bar.com'));
  assert.ok(!allowed('http://www.foo.com'));
  assert.ok(!allowed('https://www.foo.com.evil.com'));
  assert.equal(c.value.forwardNotMatchingPreflights, true, "Envoy's default");
  assert.equal(c.value.allowCredentials, false);
});

test('a policy Trellis cannot honour is refused with its field and reason', () => {
  const cases: [MessageInitShape<typeof CorsPolicySchema>, RegExp][] = [
    [{ maxAge: '1h' }, /\.max_age: "1h" is not a number of seconds/],
    [{ allowMethods: 'GET;POST' }, /\.allow_methods: "GET;POST" is not "\*" or a comma-separated/],
    [{ allowHeaders: 'x-a,' }, /\.allow_headers: /],
    [{ exposeHeaders: 'x a' }, /\.expose_headers: /],
    [{ allowOriginStringMatch: [regex('(?=x)')] }, /allow_origin_string_match\[0\]\.safe_regex/],
    [{ allowOriginStringMatch: [{}] }, /allow_origin_string_match\[0\]: unsupported match pattern/],
    [{ filterEnabled: {} }, /\.filter_enabled: not supported/],
    [{ shadowEnabled: {} }, /\.shadow_enabled: not supported/],
    [{ allowPrivateNetworkAccess: true }, /\.allow_private_network_access: not supported/],
  ];
  for (const [p, reason] of cases) {
    const c = policy(p);
    assert.ok(!c.ok, JSON.stringify(p));
    assert.match(c.reason, reason);
    assert.ok(c.reason.includes(FIELD), c.reason);
  }
});

test('preflight headers: the configured lists, "*" answered with what was asked', () => {
  const strict = policy({
    allowMethods: 'GET, OPTIONS',
    allowHeaders: 'x-header-1',
    exposeHeaders: 'x-header-3',
    maxAge: '3600',
    allowCredentials: true,
  });
  assert.ok(strict.ok);
  assert.deepEqual(preflightHeaders(strict.value, 'https://a.com', 'PUT', 'x-other'), [
    ...['access-control-allow-origin', 'https://a.com'],
    ...['access-control-allow-credentials', 'true'],
    ...['access-control-allow-methods', 'GET, OPTIONS'],
    ...['access-control-allow-headers', 'x-header-1'],
    ...['access-control-expose-headers', 'x-header-3'],
    ...['access-control-max-age', '3600'],
  ]);
  const open = policy({ allowMethods: '*', allowHeaders: '*' });
  assert.ok(open.ok);
  assert.deepEqual(preflightHeaders(open.value, 'https://b.com', 'DELETE', 'x-a, x-b'), [
    ...['access-control-allow-origin', 'https://b.com'],
    ...['access-control-allow-methods', 'DELETE'],
    ...['access-control-allow-headers', 'x-a, x-b'],
  ]);
  assert.deepEqual(
    preflightHeaders(open.value, 'https://b.com', 'GET', undefined),
    ['access-control-allow-origin', 'https://b.com', 'access-control-allow-methods', 'GET'],
    'no requested headers: no allow-headers',
  );
  assert.deepEqual(simpleHeaders(strict.value, 'https://a.com'), [
    ...['access-control-allow-origin', 'https://a.com'],
    ...['access-control-allow-credentials', 'true'],
    ...['access-control-expose-headers', 'x-header-3'],
  ]);
  assert.deepEqual(simpleHeaders(open.value, 'https://b.com'), [
    'access-control-allow-origin',
    'https://b.com',
  ]);
});
