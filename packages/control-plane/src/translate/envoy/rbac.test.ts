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
import { RBAC_ALLOW_FILTER, RBAC_DENY_FILTER, rbacFilters } from './rbac.js';

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
        rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }],
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
  assert.match(notes.notes[0]!.message, /requestPrincipals.*allow nothing/);
});

test('a DENY rule loses only what cannot be evaluated, so it denies more', () => {
  const filters = rbacFilters(
    [
      policy('d', {
        action: 'DENY',
        rules: [
          {
            from: [{ source: { requestPrincipals: ['*'] } }],
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
