import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toJson } from '@bufbuild/protobuf';
import { AuthorizationSchema } from '@trellis/api/gen/istio/security/authorization_pb.js';
import { authorizationPolicyInfo } from '../collections/authorization-policies.js';
import { toAuthorizationPolicy } from '../ingest/convert/istio-security.js';
import { resolveMeshOptions } from '../model/options.js';
import { authorizationFromPolicy } from './authorization.js';

function translate(action: string, rules: unknown[]) {
  const policy = {
    metadata: { name: 'p', namespace: 'ns' },
    spec: { action, selector: { matchLabels: { app: 'x' } }, rules },
  };
  const out = authorizationFromPolicy(
    authorizationPolicyInfo(toAuthorizationPolicy(policy), resolveMeshOptions()),
  );
  return {
    rules: out.authorization
      ? ((toJson(AuthorizationSchema, out.authorization) as { rules?: unknown[] }).rules ?? [])
      : undefined,
    warnings: out.warnings,
  };
}

test('a value that does not parse fails closed: ALLOW drops the rule, DENY drops the field', () => {
  const rule = {
    to: [{ operation: { ports: ['http'] } }],
    from: [{ source: { namespaces: ['a'] } }],
  };
  const allow = translate('ALLOW', [rule]);
  assert.deepEqual(allow.rules, []);
  assert.match(allow.warnings[0]!, /ports "http" \(not a port number\).*allow nothing/);
  const deny = translate('DENY', [rule]);
  assert.deepEqual(
    deny.rules,
    [{ clauses: [{ matches: [{ namespaces: [{ exact: 'a' }] }] }] }],
    'denies namespace a on every port',
  );
});

test('bad IP blocks are treated the same way', () => {
  for (const block of ['10.0.0.0/33', '10.0.0.1/8/1', 'example.com', '::1/129']) {
    const r = translate('ALLOW', [{ from: [{ source: { ipBlocks: [block] } }] }]);
    assert.deepEqual(r.rules, [], block);
  }
  const ok = translate('ALLOW', [{ from: [{ source: { ipBlocks: ['::1/128'] } }] }]);
  assert.equal(ok.rules?.length, 1);
});

test('empty entries and conditions without values are never read as "match anything" by ALLOW', () => {
  assert.deepEqual(translate('ALLOW', [{ from: [{ source: {} }] }]).rules, []);
  assert.deepEqual(translate('ALLOW', [{ to: [{}] }]).rules, []);
  assert.deepEqual(translate('ALLOW', [{ when: [{ key: 'source.ip' }] }]).rules, []);
  assert.deepEqual(translate('ALLOW', [{}]).rules, [{}], 'an empty rule is allow-all, as in Istio');
});

test('unknown fields are treated as attributes ztunnel cannot enforce', () => {
  const r = translate('ALLOW', [
    { from: [{ source: { namespaces: ['a'], trustDomains: ['other.org'] } }] },
  ]);
  assert.deepEqual(r.rules, []);
  assert.match(r.warnings[0]!, /cannot enforce trustDomains/);
});

test('DENY with an HTTP-only alternative denies the whole clause, never less', () => {
  // to: [GET anything] OR [port 9090]: at L4 the first alternative may match any connection.
  const r = translate('DENY', [
    {
      from: [{ source: { namespaces: ['b'] } }],
      to: [{ operation: { methods: ['GET'] } }, { operation: { ports: ['9090'] } }],
    },
  ]);
  assert.deepEqual(r.rules, [{ clauses: [{ matches: [{ namespaces: [{ exact: 'b' }] }] }] }]);
});

test('service accounts default to the policy namespace', () => {
  const r = translate('ALLOW', [
    { from: [{ source: { notServiceAccounts: ['sa', 'other/sa2'] } }] },
  ]);
  assert.deepEqual(r.rules, [
    {
      clauses: [
        {
          matches: [
            {
              notServiceAccounts: [
                { namespace: 'ns', serviceAccount: 'sa' },
                { namespace: 'other', serviceAccount: 'sa2' },
              ],
            },
          ],
        },
      ],
    },
  ]);
});

test('waypoint-bound and unsupported policies produce no Authorization', () => {
  const opts = resolveMeshOptions();
  const waypoint = authorizationPolicyInfo(
    toAuthorizationPolicy({
      metadata: { name: 'w', namespace: 'n' },
      spec: { targetRefs: [{ kind: 'Service', name: 's' }] },
    }),
    opts,
  );
  assert.deepEqual(authorizationFromPolicy(waypoint), { warnings: [] });
  const audit = authorizationPolicyInfo(
    toAuthorizationPolicy({ metadata: { name: 'a', namespace: 'n' }, spec: { action: 'AUDIT' } }),
    opts,
  );
  assert.deepEqual(authorizationFromPolicy(audit), {
    warnings: ['ztunnel does not support the AUDIT action'],
  });
  const typo = authorizationPolicyInfo(
    toAuthorizationPolicy({ metadata: { name: 't', namespace: 'n' }, spec: { action: 'deny' } }),
    opts,
  );
  assert.deepEqual(authorizationFromPolicy(typo), {
    warnings: ['unknown action "deny" (expected ALLOW, DENY, AUDIT or CUSTOM)'],
  });
});
