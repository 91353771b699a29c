import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCidr } from '../net/ip.js';
import { StateStore } from '../state/store.js';
import { match, policy, workload } from '../test-support/fixtures.js';
import { authorize } from './authorize.js';
import type { ConnectionAttributes } from './connection.js';

const id = (namespace: string, serviceAccount: string) => ({
  trustDomain: 'cluster.local',
  namespace,
  serviceAccount,
});
const conn = (fields: Partial<ConnectionAttributes> = {}): ConnectionAttributes => ({
  sourceIdentity: id('default', 'client'),
  sourceIp: '10.0.0.1',
  destinationIp: '10.0.0.2',
  destinationPort: 8080,
  ...fields,
});
const plaintext = conn({ sourceIdentity: undefined });

const allowClient = policy({
  name: 'allow-client',
  action: 'Allow',
  rules: [[[match({ principals: [{ exact: 'cluster.local/ns/default/sa/client' }] })]]],
});
const allowAdmin = policy({
  name: 'allow-admin',
  action: 'Allow',
  rules: [[[match({ principals: [{ exact: 'cluster.local/ns/default/sa/admin' }] })]]],
});
const deny9999 = policy({
  name: 'deny-9999',
  action: 'Deny',
  rules: [[[match({ destinationPorts: [9999] })]]],
});
const denyAll = policy({ name: 'deny-all', action: 'Deny', rules: [[]] });
const strict = policy({
  name: 'converted_peer_authentication_default',
  action: 'Deny',
  rules: [[[match({ notPrincipals: [{ presence: true }] })]]],
});

test('Istio order: DENY first, then no ALLOW means allow, then any ALLOW must match', () => {
  const cases: [string, Parameters<typeof authorize>[0], ConnectionAttributes, object][] = [
    ['no policies', [], conn(), { allowed: true, reason: 'no-allow-policies' }],
    [
      'only a deny that does not match',
      [deny9999],
      conn(),
      { allowed: true, reason: 'no-allow-policies' },
    ],
    [
      'a matching deny',
      [deny9999],
      conn({ destinationPort: 9999 }),
      { allowed: false, reason: 'denied', policy: 'default/deny-9999' },
    ],
    [
      'an allow that matches',
      [allowClient],
      conn(),
      { allowed: true, reason: 'allowed', policy: 'default/allow-client' },
    ],
    ['allows exist, none matches', [allowAdmin], conn(), { allowed: false, reason: 'not-allowed' }],
    [
      'one of several allows matches',
      [allowAdmin, allowClient],
      conn(),
      { allowed: true, reason: 'allowed', policy: 'default/allow-client' },
    ],
    [
      'deny wins over a matching allow',
      [allowClient, denyAll],
      conn(),
      { allowed: false, reason: 'denied', policy: 'default/deny-all' },
    ],
    [
      'allow with deny that does not match',
      [allowClient, deny9999],
      conn(),
      { allowed: true, reason: 'allowed', policy: 'default/allow-client' },
    ],
  ];
  for (const [name, policies, c, want] of cases)
    assert.deepEqual(authorize(policies, c), want, name);
});

test('PeerAuthentication STRICT (DENY notPrincipals presence) denies plaintext and allows mTLS', () => {
  assert.deepEqual(authorize([strict], plaintext), {
    allowed: false,
    reason: 'denied',
    policy: 'default/converted_peer_authentication_default',
  });
  assert.deepEqual(authorize([strict], conn()), { allowed: true, reason: 'no-allow-policies' });
  assert.deepEqual(authorize([strict, allowClient], conn()), {
    allowed: true,
    reason: 'allowed',
    policy: 'default/allow-client',
  });
});

test('dry-run policies are evaluated and reported but never enforced', () => {
  const dryDeny = { ...denyAll, name: 'dry-deny', dryRun: true };
  const dryAllowAdmin = { ...allowAdmin, name: 'dry-allow-admin', dryRun: true };
  assert.deepEqual(authorize([dryDeny], conn()), {
    allowed: true,
    reason: 'no-allow-policies',
    dryRun: { matched: ['default/dry-deny'], wouldAllow: false, wouldPolicy: 'default/dry-deny' },
  });
  // A dry-run ALLOW that does not match: enforced, the connection would be refused.
  assert.deepEqual(authorize([dryAllowAdmin], conn()), {
    allowed: true,
    reason: 'no-allow-policies',
    dryRun: { matched: [], wouldAllow: false },
  });
  // Enforced policies decide; a matching dry-run ALLOW is reported but cannot override the DENY.
  assert.deepEqual(
    authorize([deny9999, { ...allowClient, dryRun: true }], conn({ destinationPort: 9999 })),
    {
      allowed: false,
      reason: 'denied',
      policy: 'default/deny-9999',
      dryRun: {
        matched: ['default/allow-client'],
        wouldAllow: false,
        wouldPolicy: 'default/deny-9999',
      },
    },
  );
});

test('scopes: the store hands each workload its GLOBAL, NAMESPACE and selected policies', () => {
  const store = new StateStore();
  const meshDeny = policy({
    name: 'deny-outside',
    namespace: 'istio-system',
    scope: 'Global',
    action: 'Deny',
    rules: [[[match({ notSourceIps: [parseCidr('10.0.0.0/8')] })]]],
  });
  const nsStrict = { ...strict, scope: 'Namespace' as const };
  const selectedAllow = { ...allowClient, scope: 'WorkloadSelector' as const };
  store.apply({ upsertPolicies: [meshDeny, nsStrict, selectedAllow] });

  const api = workload({
    uid: 'api',
    namespace: 'default',
    authorizationPolicies: ['default/allow-client'],
  });
  const db = workload({ uid: 'db', namespace: 'default' });
  const other = workload({ uid: 'other', namespace: 'other' });

  const check = (w: typeof api, c: ConnectionAttributes) =>
    authorize(store.policiesFor(w), { ...c, destinationWorkload: w });
  assert.equal(check(api, conn()).allowed, true, 'selected allow matches the client');
  assert.equal(
    check(api, conn({ sourceIdentity: id('default', 'intruder') })).reason,
    'not-allowed',
  );
  assert.equal(
    check(db, conn({ sourceIdentity: id('default', 'intruder') })).allowed,
    true,
    'the allow does not select db',
  );
  assert.equal(
    check(db, plaintext).policy,
    'default/converted_peer_authentication_default',
    'namespace STRICT',
  );
  assert.equal(check(other, plaintext).allowed, true, 'STRICT is for namespace default only');
  assert.equal(
    check(other, conn({ sourceIp: '192.168.1.1' })).policy,
    'istio-system/deny-outside',
    'global applies everywhere',
  );
});
