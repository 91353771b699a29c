import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clusterRows,
  endpointRows,
  listenerRows,
  parseProxyConfigDump,
  routeRows,
  secretRows,
  PROXY_VIEWS,
} from './proxy-config.pure.js';

const HCM = 'envoy.filters.network.http_connection_manager';
const dump = (parts: Record<string, unknown>) =>
  parseProxyConfigDump(
    JSON.stringify({ bootstrap: {}, listeners: [], routes: [], clusters: [], ...parts }),
    'test',
  );

test('a document that is not a waypoint or gateway dump is refused, saying what it is', () => {
  assert.throws(
    () => parseProxyConfigDump('<html>', 'proxy x'),
    /proxy x: \/config_dump is not JSON/,
  );
  assert.throws(
    () => parseProxyConfigDump(JSON.stringify({ workloads: [], services: [] }), 'proxy x'),
    /no listeners or routes: not a Trellis waypoint or gateway \(for a ztunnel, use trellis ztunnel-config\)/,
  );
});

test('listeners: a row per filter chain with its match and where it sends', () => {
  const rows = listenerRows(
    dump({
      listeners: [
        {
          name: 'waypoint_inbound',
          address: { socketAddress: { address: '0.0.0.0', portValue: 15008 } },
          filterChains: [
            {
              name: 'vip-http',
              filterChainMatch: {
                destinationPort: 9080,
                prefixRanges: [{ addressPrefix: '10.96.10.5', prefixLen: 32 }],
              },
              filters: [
                { name: 'envoy.filters.network.rbac', typedConfig: {} },
                { name: HCM, typedConfig: { rds: { routeConfigName: 'details:9080' } } },
              ],
            },
            {
              name: 'direct-http',
              filterChainMatch: {
                applicationProtocols: ['http/1.1', 'h2c'],
                sourcePrefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: 8 }],
                transportProtocol: 'raw_buffer',
                serverNames: ['a.example'],
              },
              filters: [{ name: HCM, typedConfig: { routeConfig: { name: 'inline' } } }],
            },
            {
              name: 'db',
              filterChainMatch: { destinationPort: 5432 },
              filters: [
                {
                  name: 'envoy.filters.network.tcp_proxy',
                  typedConfig: {
                    weightedClusters: {
                      clusters: [
                        { name: 'a', weight: 3 },
                        { name: 'b', weight: 1 },
                      ],
                    },
                  },
                },
              ],
            },
          ],
          defaultFilterChain: {
            name: 'passthrough',
            filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: { cluster: 'pt' } }],
          },
        },
      ],
    }),
  );
  assert.deepEqual(
    rows.map((r) => [r.listener, r.address, r.chain, r.match, r.destination]),
    [
      [
        'waypoint_inbound',
        '0.0.0.0:15008',
        'vip-http',
        'port 9080 dst 10.96.10.5/32',
        'Route: details:9080',
      ],
      [
        'waypoint_inbound',
        '0.0.0.0:15008',
        'direct-http',
        'src 10.0.0.0/8 raw_buffer alpn http/1.1,h2c sni a.example',
        'Inline route: inline',
      ],
      ['waypoint_inbound', '0.0.0.0:15008', 'db', 'port 5432', 'Clusters: a (3), b (1)'],
      [
        'waypoint_inbound',
        '0.0.0.0:15008',
        'passthrough (default)',
        'no other chain matched',
        'Cluster: pt',
      ],
    ],
  );
});

test('routes: every match form and action, in the order the proxy tries them', () => {
  const rows = routeRows(
    dump({
      routes: [
        {
          name: 'reviews:9080',
          virtualHosts: [
            {
              name: 'reviews:9080',
              domains: ['*'],
              routes: [
                {
                  name: 'exact',
                  match: {
                    path: '/legacy',
                    headers: [
                      { name: ':method', stringMatch: { exact: 'GET' } },
                      { name: 'x-debug', presentMatch: true },
                      { name: 'x-skip', presentMatch: true, invertMatch: true },
                      { name: 'x-env', stringMatch: { prefix: 'prod' }, invertMatch: true },
                      { name: 'x-re', safeRegexMatch: { regex: 'a+' } },
                      { name: 'x-v', stringMatch: { suffix: '.1' } },
                    ],
                    queryParameters: [
                      { name: 'theme', stringMatch: { exact: 'dark' } },
                      { name: 'debug', presentMatch: true },
                    ],
                  },
                  route: {
                    cluster: 'outbound|9080||reviews-v0',
                    requestMirrorPolicies: [{ cluster: 'outbound|9080||shadow' }],
                  },
                },
                {
                  name: 'segment',
                  match: { pathSeparatedPrefix: '/api', caseSensitive: false },
                  redirect: {
                    schemeRedirect: 'https',
                    hostRedirect: 'login.example.com',
                    portRedirect: 8443,
                    responseCode: 'FOUND',
                  },
                },
                {
                  name: 'regex',
                  match: { safeRegex: { regex: '/static/.*\\.css' } },
                  redirect: { pathRedirect: '/new', responseCode: 'PERMANENT_REDIRECT' },
                },
                { name: 'teapot', match: { prefix: '/tea' }, directResponse: { status: 418 } },
                {
                  name: 'split',
                  match: { prefix: '/' },
                  route: {
                    weightedClusters: {
                      clusters: [
                        { name: 'v1', weight: 90 },
                        { name: 'v2', weight: 10 },
                      ],
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
    }),
  );
  assert.deepEqual(
    rows.map((r) => [r.routeConfig, r.domains, r.match, r.action, r.name]),
    [
      [
        'reviews:9080',
        '*',
        '/legacy :method=GET x-debug !x-skip !x-env^=prod x-re~=a+ x-v$=.1 ?theme=dark ?debug',
        'outbound|9080||reviews-v0; mirror outbound|9080||shadow',
        'exact',
      ],
      [
        'reviews:9080',
        '*',
        '/api/* (any case)',
        'redirect https://login.example.com:8443 302',
        'segment',
      ],
      ['reviews:9080', '*', '//static/.*\\.css/', 'redirect /new 308', 'regex'],
      ['reviews:9080', '*', '/tea*', 'direct response 418', 'teapot'],
      ['reviews:9080', '*', '/*', 'v1 (90), v2 (10)', 'split'],
    ],
  );
});

test("clusters: Istio's direction|port|subset|FQDN names split; others as they are", () => {
  const rows = clusterRows(
    dump({
      clusters: [
        {
          name: 'outbound|9080|v2|reviews.shop.svc.cluster.local',
          type: 'EDS',
          lbPolicy: 'LEAST_REQUEST',
        },
        { name: 'original_dst', type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED' },
        { name: 'static' },
      ],
    }),
  );
  assert.deepEqual(rows, [
    {
      service: 'reviews.shop.svc.cluster.local',
      port: '9080',
      subset: 'v2',
      direction: 'outbound',
      type: 'EDS',
      lbPolicy: 'LEAST_REQUEST',
    },
    {
      service: 'original_dst',
      port: '-',
      subset: '-',
      direction: '-',
      type: 'ORIGINAL_DST',
      lbPolicy: 'CLUSTER_PROVIDED',
    },
    {
      service: 'static',
      port: '-',
      subset: '-',
      direction: '-',
      type: 'STATIC',
      lbPolicy: 'ROUND_ROBIN',
    },
  ]);
});

test('endpoints: hosts with health, ejection and how they are reached', () => {
  const rows = endpointRows(
    JSON.stringify([
      {
        name: 'outbound|80||echo',
        hosts: [
          {
            address: '10.240.0.4:8080',
            health: 'healthy',
            hbone: true,
            identity: 'spiffe://td/ns/a/sa/echo',
            weight: 1,
            ejected: false,
          },
          {
            address: '10.240.0.5:8080',
            health: 'healthy',
            hbone: true,
            identity: 'spiffe://td/ns/a/sa/echo',
            weight: 2,
            ejected: true,
            ejectedForMs: 30_000,
          },
          {
            address: '192.0.2.1:80',
            health: 'unhealthy',
            hbone: false,
            identity: null,
            weight: 1,
            ejected: false,
          },
        ],
      },
    ]),
    'test',
  );
  assert.deepEqual(
    rows.map((r) => [r.endpoint, r.status, r.outlierCheck, r.weight, r.identity]),
    [
      ['10.240.0.4:8080', 'healthy', 'OK', 1, 'spiffe://td/ns/a/sa/echo'],
      ['10.240.0.5:8080', 'healthy', 'EJECTED (30s left)', 2, 'spiffe://td/ns/a/sa/echo'],
      ['192.0.2.1:80', 'unhealthy', 'OK', 1, 'plain TCP'],
    ],
  );
  assert.throws(
    () => endpointRows('{}', 'proxy x'),
    /proxy x: \/clusters is not a list of clusters/,
  );
});

/** A self-signed certificate for shop.example.com, valid 2026-12-08T01:00:37Z to 2027-01-07T01:00:37Z. */
const SHOP_CERT = `-----BEGIN CERTIFICATE-----
MIIBqTCCAU6gAwIBAgIUHYZlmps7rdB4TnrZEKN3YbnLQTgwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQc2hvcC5leGFtcGxlLmNvbTAeFw0yNjEyMDgwMTAwMzdaFw0y
NzAxMDcwMTAwMzdaMBsxGTAXBgNVBAMMEHNob3AuZXhhbXBsZS5jb20wWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAASwwwLtgeVWrf2QfJZ+g1ArlMf1oYaUFvWXJ/ul
nzdNXUkfVwyz6CVU3oj5tWj3cCalJSVkwq/lQvQKeJ/IOxFMo3AwbjAdBgNVHQ4E
FgQUeUmM1nM9kOAKSkp/jvP3i7gqe8QwHwYDVR0jBBgwFoAUeUmM1nM9kOAKSkp/
jvP3i7gqe8QwDwYDVR0TAQH/BAUwAwEB/zAbBgNVHREEFDASghBzaG9wLmV4YW1w
bGUuY29tMAoGCCqGSM49BAMCA0kAMEYCIQCCpdNe64ZJ0c8TD+bRDFryr7tkYAnj
MLYT+kaoegFEigIhALJAcAtV4WrZJ5GIWmwp7xMKIMVqOPrZ3koe54+wNsvD
-----END CERTIFICATE-----
`;

test('secret: the workload certificate, and SDS certificates read from their PEM', () => {
  const now = Date.parse('2026-12-08T02:00:37Z');
  const rows = secretRows(
    dump({
      bootstrap: {
        identity: {
          identity: 'spiffe://cluster.local/ns/shop/sa/waypoint',
          notBefore: '2026-12-08T01:00:00.000Z',
          notAfter: '2026-12-09T01:01:37.000Z',
        },
      },
      secrets: [
        {
          name: 'kubernetes-gateway://shop/shop-cert',
          tlsCertificate: {
            certificateChain: { inlineBytes: Buffer.from(SHOP_CERT).toString('base64') },
            privateKey: { inlineString: '[redacted]' },
          },
        },
        { name: 'ca', validationContext: { trustedCa: { inlineString: 'nothing' } } },
      ],
    }),
    now,
  );
  assert.deepEqual(
    rows.map((r) => [r.resource, r.type, r.identity, r.notAfter, r.expiresIn]),
    [
      [
        'default',
        'workload certificate',
        'spiffe://cluster.local/ns/shop/sa/waypoint',
        '2026-12-09T01:01:37.000Z',
        '23h',
      ],
      [
        'kubernetes-gateway://shop/shop-cert',
        'TLS certificate',
        'DNS:shop.example.com',
        '2027-01-07T01:00:37.000Z',
        '29d',
      ],
      ['ca', 'CA bundle', '-', '-', '-'],
    ],
  );
  assert.equal(secretRows(dump({}), now)[0]!.notBefore, 'not issued yet');
});

test('-o json|yaml prints the Envoy resources themselves', () => {
  const routes = [{ name: 'r', virtualHosts: [] }];
  const text = JSON.stringify({ bootstrap: {}, listeners: [], routes, clusters: [] });
  assert.deepEqual(PROXY_VIEWS.routes!.value(text, 'test'), routes);
  assert.deepEqual(PROXY_VIEWS.listeners!.rows(text, 'test', 0), []);
});
