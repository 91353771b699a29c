// Who may receive which identity: table tests of the pure decision.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorize, type AuthorizeInput } from './authorize.js';

const ztunnel = { namespace: 'trellis-system', serviceAccount: 'ztunnel', node: 'n1' };
const base: Omit<AuthorizeInput, 'caller'> = {
  trustDomain: 'cluster.local',
  trustedNodeProxies: [{ namespace: 'trellis-system', serviceAccount: 'ztunnel' }],
  workloadsOnCallerNode: [{ namespace: 'prod', serviceAccount: 'db' }],
};

const cases: [string, AuthorizeInput, string | RegExp][] = [
  [
    'own identity',
    { ...base, caller: { namespace: 'default', serviceAccount: 'web' } },
    'spiffe://cluster.local/ns/default/sa/web',
  ],
  [
    'impersonating itself is its own identity',
    {
      ...base,
      caller: ztunnel,
      impersonated: 'spiffe://cluster.local/ns/trellis-system/sa/ztunnel',
    },
    'spiffe://cluster.local/ns/trellis-system/sa/ztunnel',
  ],
  [
    'trusted proxy, pod on its node',
    { ...base, caller: ztunnel, impersonated: 'spiffe://cluster.local/ns/prod/sa/db' },
    'spiffe://cluster.local/ns/prod/sa/db',
  ],
  [
    'untrusted caller',
    {
      ...base,
      caller: { namespace: 'prod', serviceAccount: 'db', node: 'n1' },
      impersonated: 'spiffe://cluster.local/ns/prod/sa/api',
    },
    /not a trusted node proxy/,
  ],
  [
    'pod on another node',
    { ...base, caller: ztunnel, impersonated: 'spiffe://cluster.local/ns/prod/sa/api' },
    /no pod with service account prod\/api runs on node n1/,
  ],
  [
    'proxy without a node',
    {
      ...base,
      caller: { namespace: 'trellis-system', serviceAccount: 'ztunnel' },
      impersonated: 'spiffe://cluster.local/ns/prod/sa/db',
    },
    /no known node/,
  ],
  [
    'other trust domain',
    { ...base, caller: ztunnel, impersonated: 'spiffe://evil.example/ns/prod/sa/db' },
    /not in trust domain cluster.local/,
  ],
  ['not a SPIFFE id', { ...base, caller: ztunnel, impersonated: 'https://x/y' }, /is invalid/],
];

for (const [name, input, want] of cases) {
  test(`authorize: ${name}`, () => {
    const d = authorize(input);
    if (typeof want === 'string') assert.deepEqual(d, { allowed: true, identity: want });
    else {
      assert.equal(d.allowed, false);
      assert.match((d as { reason: string }).reason, want);
    }
  });
}
