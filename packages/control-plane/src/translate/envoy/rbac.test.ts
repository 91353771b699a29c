// The RBAC translation's safety rules: what cannot be evaluated never makes a policy weaker.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toJson } from '@bufbuild/protobuf';
import { apiRegistry, unpackAnyAs } from '@trellis/api';
import { RBACSchema } from '@trellis/api/gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import type { HttpFilter } from '@trellis/api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { authorizationPolicyInfo } from '../../collections/authorization-policies.js';
import { toAuthorizationPolicy } from '../../ingest/convert/istio-security.js';
import { DEFAULT_MESH_OPTIONS } from '../../model/options.js';
import { NoteSink } from './notes.js';
import { networkRbacFilters, RBAC_ALLOW_FILTER, RBAC_DENY_FILTER, rbacFilters } from './rbac.js';
import { RBACSchema as NetworkRbacSchema } from '@trellis/api/gen/envoy/extensions/filters/network/rbac/v3/rbac_pb.js';
import type { Any } from '@bufbuild/protobuf/wkt';

function policy(
  name: string,
  spec: Record<string, unknown>,
  annotations: Record<string, string> = {},
) {
  return authorizationPolicyInfo(
    toAuthorizationPolicy({
      metadata: { name, namespace: 'ns', annotations },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }],
        ...spec,
      },
    }),
    DEFAULT_MESH_OPTIONS,
  );
}

function config(filters: HttpFilter[], name: string) {
  const f = filters.find((x) => x.name === name);
  if (!f) return undefined;
  const any = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
  return toJson(RBACSchema, unpackAnyAs(any!, RBACSchema), { registry: apiRegistry }) as Record<
    string,
    unknown
  >;
}

test('no policy, no filter: everything is allowed', () => {
  assert.deepEqual(rbacFilters([], 'cluster.local', new NoteSink()), []);
});

test('an ALLOW rule the waypoint cannot evaluate allows nothing, and the policy still denies the rest', () => {
  const notes = new NoteSink();
  const filters = rbacFilters(
    [
      policy('jwt', {
        action: 'ALLOW',
        rules: [{ when: [{ key: 'experimental.envoy.filters.x', values: ['y'] }] }],
      }),
    ],
    'cluster.local',
    notes,
  );
  assert.deepEqual(
    config(filters, RBAC_ALLOW_FILTER),
    { rules: {} },
    'ALLOW with no policies denies every request',
  );
  assert.match(notes.notes[0]!.message, /experimental\.envoy\.filters\.x.*allow nothing/);
});

test('a DENY rule loses only what cannot be evaluated, so it denies more', () => {
  const filters = rbacFilters(
    [
      policy('d', {
        action: 'DENY',
        rules: [
          {
            when: [{ key: 'experimental.envoy.filters.x', values: ['y'] }],
            to: [{ operation: { methods: ['DELETE'] } }],
          },
        ],
      }),
    ],
    'cluster.local',
    new NoteSink(),
  );
  const deny = config(filters, RBAC_DENY_FILTER) as {
    rules: { action: string; policies: Record<string, unknown> };
  };
  assert.equal(deny.rules.action, 'DENY');
  assert.deepEqual(deny.rules.policies['ns[ns]-policy[d]-rule[0]'], {
    permissions: [{ header: { name: ':method', stringMatch: { exact: 'DELETE' } } }],
    principals: [{ any: true }],
  });
});

test("Istio's path templates ({*}, {**}) become Envoy URI template permissions; plain paths stay path matchers", () => {
  const filters = rbacFilters(
    [
      policy('t', {
        action: 'DENY',
        rules: [
          {
            to: [
              {
                operation: {
                  paths: ['/api/{*}/admin', '/files/{**}', '/plain*'],
                  notPaths: ['/files/{*}/public/{**}'],
                },
              },
            ],
          },
        ],
      }),
    ],
    'cluster.local',
    new NoteSink(),
  );
  const template = (pathTemplate: string) => ({
    uriTemplate: {
      name: 'envoy.path.match.uri_template.uri_template_matcher',
      typedConfig: {
        '@type':
          'type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig',
        pathTemplate,
      },
    },
  });
  const deny = config(filters, RBAC_DENY_FILTER) as {
    rules: { policies: Record<string, { permissions: unknown[] }> };
  };
  assert.deepEqual(deny.rules.policies['ns[ns]-policy[t]-rule[0]']!.permissions, [
    {
      andRules: {
        rules: [
          {
            orRules: {
              rules: [
                template('/api/*/admin'),
                template('/files/**'),
                { urlPath: { path: { prefix: '/plain' } } },
              ],
            },
          },
          { notRule: template('/files/*/public/**') },
        ],
      },
    },
  ]);
});

test('a path template Istio refuses is named in the status; the ALLOW rule allows nothing, the DENY rule denies more', () => {
  const notes = new NoteSink();
  const filters = rbacFilters(
    [
      policy('allow-bad', {
        action: 'ALLOW',
        rules: [{ to: [{ operation: { paths: ['/a/{**}/{*}'] } }] }],
      }),
      policy('deny-bad', {
        action: 'DENY',
        rules: [
          {
            to: [{ operation: { methods: ['DELETE'], paths: ['/a/{id}', '/b/x{*}', 'c/{*}'] } }],
          },
        ],
      }),
    ],
    'cluster.local',
    notes,
  );
  assert.deepEqual(config(filters, RBAC_ALLOW_FILTER), { rules: {} }, 'allows nothing');
  const deny = config(filters, RBAC_DENY_FILTER) as {
    rules: { policies: Record<string, { permissions: unknown[] }> };
  };
  assert.deepEqual(deny.rules.policies['ns[ns]-policy[deny-bad]-rule[0]']!.permissions, [
    { header: { name: ':method', stringMatch: { exact: 'DELETE' } } },
  ]);
  const byName = new Map(notes.notes.map((n) => [n.object, n.message]));
  assert.match(
    byName.get('ns/allow-bad')!,
    /to\.operation\.paths values \(path template "\/a\/\{\*\*\}\/\{\*\}": \{\*\*\} must be the last template\); rules using them allow nothing/,
  );
  assert.match(
    byName.get('ns/deny-bad')!,
    /path template "\/a\/\{id\}": "\{id\}": \{\*\} and \{\*\*\} must be whole segments/,
  );
  assert.match(byName.get('ns/deny-bad')!, /path template "\/b\/x\{\*\}"/);
  assert.match(byName.get('ns/deny-bad')!, /path template "c\/\{\*\}": must start with \//);
  assert.match(byName.get('ns/deny-bad')!, /denies more than written/);
});

test('methods and request headers match as Istio does: * is present, *x suffix, x* prefix', () => {
  const filters = rbacFilters(
    [
      policy('h', {
        action: 'DENY',
        rules: [
          {
            to: [{ operation: { methods: ['*', 'P*'] } }],
            when: [{ key: 'request.headers[X-Debug]', values: ['*', '*-on'] }],
          },
        ],
      }),
    ],
    'cluster.local',
    new NoteSink(),
  );
  const deny = config(filters, RBAC_DENY_FILTER) as {
    rules: { policies: Record<string, { permissions: unknown[] }> };
  };
  assert.deepEqual(deny.rules.policies['ns[ns]-policy[h]-rule[0]']!.permissions, [
    {
      andRules: {
        rules: [
          {
            orRules: {
              rules: [
                { header: { name: ':method', presentMatch: true } },
                { header: { name: ':method', stringMatch: { prefix: 'P' } } },
              ],
            },
          },
          {
            orRules: {
              rules: [
                { header: { name: 'x-debug', presentMatch: true } },
                { header: { name: 'x-debug', stringMatch: { suffix: '-on' } } },
              ],
            },
          },
        ],
      },
    },
  ]);
});

test('dry-run policies only fill shadow rules', () => {
  const filters = rbacFilters(
    [policy('audit', { action: 'ALLOW', rules: [{}] }, { 'istio.io/dry-run': 'true' })],
    'cluster.local',
    new NoteSink(),
  );
  const allow = config(filters, RBAC_ALLOW_FILTER)!;
  assert.equal(allow.rules, undefined, 'nothing is enforced');
  assert.deepEqual(allow.shadowRules, {
    policies: {
      'ns[ns]-policy[audit]-rule[0]': { permissions: [{ any: true }], principals: [{ any: true }] },
    },
  });
  assert.equal(allow.shadowRulesStatPrefix, 'istio_dry_run_allow_');
});

test('DENY comes before ALLOW, and the router is not added here', () => {
  const filters = rbacFilters(
    [policy('a', { action: 'ALLOW', rules: [{}] }), policy('d', { action: 'DENY', rules: [{}] })],
    'cluster.local',
    new NoteSink(),
  );
  assert.deepEqual(
    filters.map((f) => f.name),
    [RBAC_DENY_FILTER, RBAC_ALLOW_FILTER],
  );
});

test('service accounts and principals become SPIFFE id matchers', () => {
  const filters = rbacFilters(
    [
      policy('p', {
        action: 'ALLOW',
        rules: [
          { from: [{ source: { serviceAccounts: ['other/api', 'web'], principals: ['*'] } }] },
        ],
      }),
    ],
    'example.org',
    new NoteSink(),
  );
  const allow = config(filters, RBAC_ALLOW_FILTER) as {
    rules: { policies: Record<string, { principals: unknown[] }> };
  };
  assert.deepEqual(allow.rules.policies['ns[ns]-policy[p]-rule[0]']!.principals, [
    {
      andIds: {
        ids: [
          {
            orIds: {
              ids: [
                {
                  authenticated: {
                    principalName: { exact: 'spiffe://example.org/ns/other/sa/api' },
                  },
                },
                {
                  authenticated: { principalName: { exact: 'spiffe://example.org/ns/ns/sa/web' } },
                },
              ],
            },
          },
          { authenticated: { principalName: { safeRegex: { regex: '.+' } } } },
        ],
      },
    },
  ]);
});

test('request principals and JWT claims read the istio_authn metadata of the JWT filter', () => {
  const filters = rbacFilters(
    [
      policy('jwt', {
        action: 'ALLOW',
        rules: [
          {
            from: [{ source: { requestPrincipals: ['https://issuer.example/*'] } }],
            when: [{ key: 'request.auth.claims[groups]', values: ['admins'] }],
          },
        ],
      }),
    ],
    'cluster.local',
    new NoteSink(),
  );
  const allow = config(filters, RBAC_ALLOW_FILTER) as {
    rules: { policies: Record<string, { principals: unknown[]; permissions: unknown[] }> };
  };
  const rule = allow.rules.policies['ns[ns]-policy[jwt]-rule[0]']!;
  assert.deepEqual(rule.principals, [
    {
      metadata: {
        filter: 'istio_authn',
        path: [{ key: 'request.auth.principal' }],
        value: { stringMatch: { prefix: 'https://issuer.example/' } },
      },
    },
  ]);
  assert.deepEqual(rule.permissions, [
    {
      metadata: {
        filter: 'istio_authn',
        path: [{ key: 'request.auth.claims' }, { key: 'groups' }],
        value: { listMatch: { oneOf: { stringMatch: { exact: 'admins' } } } },
      },
    },
  ]);
});

test('on a TCP chain HTTP attributes are unknown: ALLOW rules with them allow nothing, DENY rules deny more', () => {
  const notes = new NoteSink();
  const filters = networkRbacFilters(
    [
      policy('a', {
        action: 'ALLOW',
        rules: [
          { to: [{ operation: { paths: ['/x'] } }] },
          { from: [{ source: { namespaces: ['ops'] } }] },
        ],
      }),
      policy('d', {
        action: 'DENY',
        rules: [{ to: [{ operation: { methods: ['GET'], ports: ['5432'] } }] }],
      }),
    ],
    'cluster.local',
    notes,
  );
  assert.deepEqual(
    filters.map((f) => f.name),
    ['envoy.filters.network.rbac.deny', 'envoy.filters.network.rbac.allow'],
  );
  const json = (f: (typeof filters)[number]) =>
    toJson(NetworkRbacSchema, unpackAnyAs(f.configType.value as Any, NetworkRbacSchema), {
      registry: apiRegistry,
    }) as {
      rules: { policies: Record<string, { permissions: unknown[] }> };
    };
  const deny = json(filters[0]!);
  assert.deepEqual(deny.rules.policies['ns[ns]-policy[d]-rule[0]']!.permissions, [
    { destinationPort: 5432 },
  ]);
  const allow = json(filters[1]!);
  assert.deepEqual(Object.keys(allow.rules.policies), ['ns[ns]-policy[a]-rule[1]']);
  assert.ok(
    notes.notes.some((n) =>
      /to\.operation\.paths on TCP ports; rules using them allow nothing/.test(n.message),
    ),
  );
});
