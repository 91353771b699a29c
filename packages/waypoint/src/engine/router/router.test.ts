// Routing decisions: virtual host selection (exact, longest suffix and prefix wildcards, "*",
// ports), first-match route order with every matcher kind, weighted picks, path rewrites and
// redirect locations, header mutation actions and value templates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { convertRouteConfiguration } from '../convert/route-config.js';
import type { RouteTable } from '../model/route.js';
import { applyMutation } from './header-ops.js';
import { redirectLocation, upstreamPath } from './rewrite.js';
import { matchRoute, pickTarget, selectVirtualHost } from './select.js';

function table(init: Parameters<typeof create<typeof RouteConfigurationSchema>>[1]): RouteTable {
  const c = convertRouteConfiguration(create(RouteConfigurationSchema, init));
  assert.ok(c.ok, c.ok ? '' : c.reason);
  return c.value;
}

const fwd = (name: string, match: object, cluster = name, action: object = {}) => ({
  name,
  match,
  action: {
    case: 'route' as const,
    value: { clusterSpecifier: { case: 'cluster' as const, value: cluster }, ...action },
  },
});

test('virtual hosts: exact, then the longest *.suffix, then the longest prefix.*, then *; the port is tried with and without', () => {
  const t = table({
    name: 'r',
    virtualHosts: [
      { name: 'exact', domains: ['api.example.com', 'api.example.com:8443'], routes: [] },
      { name: 'suffix', domains: ['*.example.com'], routes: [] },
      { name: 'longer-suffix', domains: ['*.eu.example.com'], routes: [] },
      { name: 'prefix', domains: ['api.*'], routes: [] },
      { name: 'any', domains: ['*'], routes: [] },
    ],
  });
  const vh = (a: string) => selectVirtualHost(t, a)?.name;
  assert.equal(vh('api.example.com'), 'exact');
  assert.equal(vh('API.EXAMPLE.COM'), 'exact', 'case-insensitive');
  assert.equal(
    vh('api.internal:80'),
    'prefix',
    'wildcards see the whole authority, port included (as Envoy)',
  );
  assert.equal(vh('api.example.com:8443'), 'exact');
  assert.equal(vh('x.eu.example.com'), 'longer-suffix');
  assert.equal(vh('x.example.com'), 'suffix');
  assert.equal(vh('api.internal'), 'prefix');
  assert.equal(vh('other'), 'any');
  const noDefault = table({
    name: 'n',
    virtualHosts: [{ name: 'svc', domains: ['svc.local'], routes: [] }],
  });
  assert.equal(
    selectVirtualHost(noDefault, 'svc.local:80')?.name,
    'svc',
    'no domain has the port: tried without it',
  );
  assert.equal(selectVirtualHost(noDefault, 'other:80'), undefined);
  assert.throws(
    () =>
      table({
        name: 'dup',
        virtualHosts: [
          { name: 'a', domains: ['x'] },
          { name: 'b', domains: ['x'] },
        ],
      }),
    /domain "x" is in more than one virtual host/,
  );
});

test('the first matching route wins; path, regex, headers (all kinds), query, method, grpc, case', () => {
  const t = table({
    name: 'r',
    virtualHosts: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          fwd('exact', { pathSpecifier: { case: 'path', value: '/exact' } }),
          fwd('sep', { pathSpecifier: { case: 'pathSeparatedPrefix', value: '/api' } }),
          fwd('regex', { pathSpecifier: { case: 'safeRegex', value: { regex: '/r/[0-9]+' } } }),
          fwd('hdr-present', {
            pathSpecifier: { case: 'prefix', value: '/h' },
            headers: [{ name: 'x-a', headerMatchSpecifier: { case: 'presentMatch', value: true } }],
          }),
          fwd('hdr-range', {
            pathSpecifier: { case: 'prefix', value: '/h' },
            headers: [
              {
                name: 'x-n',
                headerMatchSpecifier: { case: 'rangeMatch', value: { start: 10n, end: 20n } },
              },
            ],
          }),
          fwd('hdr-invert', {
            pathSpecifier: { case: 'prefix', value: '/h' },
            headers: [
              {
                name: 'x-env',
                invertMatch: true,
                headerMatchSpecifier: {
                  case: 'stringMatch',
                  value: { matchPattern: { case: 'exact', value: 'prod' } },
                },
              },
            ],
          }),
          fwd('query', {
            pathSpecifier: { case: 'prefix', value: '/q' },
            queryParameters: [
              {
                name: 'v',
                queryParameterMatchSpecifier: {
                  case: 'stringMatch',
                  value: { matchPattern: { case: 'prefix', value: 'b' }, ignoreCase: true },
                },
              },
            ],
          }),
          fwd('grpc', { pathSpecifier: { case: 'prefix', value: '/' }, grpc: {} }),
          fwd('ci', { pathSpecifier: { case: 'prefix', value: '/CaSe' }, caseSensitive: false }),
          fwd('rest', { pathSpecifier: { case: 'prefix', value: '/' } }),
        ],
      },
    ],
  });
  const vh = t.virtualHosts[0]!;
  const m = (path: string, headers: string[] = [], method = 'GET') =>
    matchRoute(vh, { method, path, authority: 'a', scheme: 'http', headers, metadata: new Map() })
      ?.name;
  assert.equal(m('/exact'), 'exact');
  assert.equal(m('/exact?x=1'), 'exact', 'the query is not part of the path match');
  assert.equal(m('/exact/'), 'rest');
  assert.equal(m('/api'), 'sep');
  assert.equal(m('/api/v1'), 'sep');
  assert.equal(m('/apiv1'), 'rest');
  assert.equal(m('/r/123'), 'regex');
  assert.equal(m('/r/12a'), 'rest', 'regexes match the whole path');
  assert.equal(m('/h', ['x-a', '']), 'hdr-present');
  assert.equal(m('/h', ['x-n', '15']), 'hdr-range');
  assert.equal(m('/h', ['x-n', '25', 'x-env', 'prod']), 'rest');
  assert.equal(m('/h', ['x-env', 'dev']), 'hdr-invert');
  assert.equal(m('/q?a=1&v=Beta'), 'query');
  assert.equal(m('/q?v=alpha'), 'rest');
  assert.equal(m('/svc/Method', ['content-type', 'application/grpc+proto']), 'grpc');
  assert.equal(m('/case/x'), 'ci');
});

test('weighted picks follow the weights', () => {
  const t = table({
    name: 'r',
    virtualHosts: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          {
            name: 'w',
            match: { pathSpecifier: { case: 'prefix', value: '/' } },
            action: {
              case: 'route',
              value: {
                clusterSpecifier: {
                  case: 'weightedClusters',
                  value: {
                    clusters: [
                      { name: 'a', weight: 1 },
                      { name: 'b', weight: 3 },
                    ],
                  },
                },
              },
            },
          },
        ],
      },
    ],
  });
  const action = t.virtualHosts[0]!.routes[0]!.action;
  assert.equal(action.kind, 'forward');
  if (action.kind !== 'forward') return;
  assert.equal(pickTarget(action, 0).cluster, 'a');
  assert.equal(pickTarget(action, 0.24).cluster, 'a');
  assert.equal(pickTarget(action, 0.26).cluster, 'b');
  assert.equal(pickTarget(action, 0.999).cluster, 'b');
});

test('rewrites: prefix rewrite keeps the rest and the query; regex rewrite with groups', () => {
  const t = table({
    name: 'r',
    virtualHosts: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          fwd('p', { pathSpecifier: { case: 'pathSeparatedPrefix', value: '/v1' } }, 'c', {
            prefixRewrite: '/v2',
          }),
          fwd('re', { pathSpecifier: { case: 'prefix', value: '/old' } }, 'c', {
            regexRewrite: { pattern: { regex: '^/old(/.*)?$' }, substitution: '/new\\1' },
          }),
        ],
      },
    ],
  });
  const [p, re] = t.virtualHosts[0]!.routes as [never, never];
  const path = (r: typeof p, x: string) => upstreamPath(x, r, (r as { action: never }).action);
  assert.equal(path(p, '/v1/users?id=1'), '/v2/users?id=1');
  assert.equal(path(p, '/v1'), '/v2');
  assert.equal(path(re, '/old/a/b?z'), '/new/a/b?z');
  assert.equal(path(re, '/old'), '/new');
});

test('redirect locations: scheme change drops the port, explicit port, prefix rewrite, path replace, strip query', () => {
  const t = table({
    name: 'r',
    virtualHosts: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          {
            name: 'https',
            match: { pathSpecifier: { case: 'prefix', value: '/s' } },
            action: {
              case: 'redirect',
              value: { schemeRewriteSpecifier: { case: 'httpsRedirect', value: true } },
            },
          },
          {
            name: 'port',
            match: { pathSpecifier: { case: 'prefix', value: '/p' } },
            action: {
              case: 'redirect',
              value: { hostRedirect: 'login.example.com', portRedirect: 8443, responseCode: 1 },
            },
          },
          {
            name: 'prefix',
            match: { pathSpecifier: { case: 'prefix', value: '/old' } },
            action: {
              case: 'redirect',
              value: {
                pathRewriteSpecifier: { case: 'prefixRewrite', value: '/new' },
                responseCode: 4,
              },
            },
          },
          {
            name: 'path',
            match: { pathSpecifier: { case: 'prefix', value: '/x' } },
            action: {
              case: 'redirect',
              value: {
                pathRewriteSpecifier: { case: 'pathRedirect', value: '/y' },
                stripQuery: true,
              },
            },
          },
        ],
      },
    ],
  });
  const loc = (path: string) => {
    const r = matchRoute(t.virtualHosts[0]!, {
      method: 'GET',
      path,
      authority: 'shop.example.com:8080',
      scheme: 'http',
      headers: [],
      metadata: new Map(),
    })!;
    assert.equal(r.action.kind, 'redirect');
    return r.action.kind === 'redirect'
      ? [
          r.action.status,
          redirectLocation(r.action, r, {
            scheme: 'http',
            authority: 'shop.example.com:8080',
            path,
          }),
        ]
      : [];
  };
  assert.deepEqual(loc('/s/a?q=1'), [301, 'https://shop.example.com/s/a?q=1']);
  assert.deepEqual(loc('/p'), [302, 'http://login.example.com:8443/p']);
  assert.deepEqual(loc('/old/x?k'), [308, 'http://shop.example.com:8080/new/x?k']);
  assert.deepEqual(loc('/x/z?k=v'), [301, 'http://shop.example.com:8080/y']);
});

test('header mutations: remove first, then each append action; templates; empty values dropped unless kept', () => {
  const t = table({
    name: 'r',
    virtualHosts: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          {
            name: 'h',
            match: { pathSpecifier: { case: 'prefix', value: '/' } },
            action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'c' } } },
            requestHeadersToRemove: ['x-drop'],
            requestHeadersToAdd: [
              { header: { key: 'x-append', value: 'b' }, appendAction: 0 },
              { header: { key: 'x-absent', value: 'new' }, appendAction: 1 },
              { header: { key: 'x-set', value: 'one' }, appendAction: 2 },
              { header: { key: 'x-only-if', value: 'nope' }, appendAction: 3 },
              {
                header: {
                  key: 'x-client',
                  value: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% 100%%',
                },
                appendAction: 2,
              },
              { header: { key: 'x-empty', value: '' }, appendAction: 2 },
              { header: { key: 'x-kept', value: '' }, appendAction: 2, keepEmptyValue: true },
              { header: { key: ':authority', value: 'rewritten.host' }, appendAction: 2 },
            ],
          },
        ],
      },
    ],
  });
  const h = ['x-drop', '1', 'x-append', 'a', 'x-absent', 'old', 'x-set', 'x', 'x-set', 'y'];
  const host = applyMutation(h, t.virtualHosts[0]!.routes[0]!.requestHeaders, () => ({
    downstreamRemote: '10.0.0.7:5555',
    downstreamLocal: '10.0.0.1:15008',
    protocol: 'HTTP/1.1',
    startTime: 0,
    hostname: 'wp',
    requestHeaders: [],
  }));
  assert.equal(host, 'rewritten.host');
  assert.deepEqual(h, [
    'x-append',
    'a',
    'x-absent',
    'old',
    'x-append',
    'b',
    'x-set',
    'one',
    'x-client',
    '10.0.0.7 100%',
    'x-kept',
    '',
  ]);
  assert.throws(
    () =>
      table({
        name: 'r',
        virtualHosts: [
          {
            name: 'v',
            domains: ['*'],
            requestHeadersToAdd: [{ header: { key: 'x', value: '%FOO%' } }],
          },
        ],
      }),
    /unsupported operator %FOO%/,
  );
  assert.throws(
    () =>
      table({
        name: 'r',
        virtualHosts: [
          {
            name: 'v',
            domains: ['*'],
            requestHeadersToAdd: [{ header: { key: 'x', value: 'a\r\nb' } }],
          },
        ],
      }),
    /contains CR, LF or NUL/,
  );
});
