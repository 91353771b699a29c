import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import {
  AuthorizationSchema,
  MatchSchema,
  type Authorization as XdsAuthorization,
} from '@trellis/api/gen/istio/security/authorization_pb.js';
import { ipToBytes } from '../../net/ip.js';
import { match } from '../../test-support/fixtures.js';
import { convertAuthorization } from './authorization.js';

/** An enum number the schema does not define, as a decoder delivers it. */
const unknown = (n: number) => n as never;

type Init = Parameters<typeof create<typeof AuthorizationSchema>>[1];
type MatchInit = NonNullable<Parameters<typeof create<typeof MatchSchema>>[1]>;

function pol(init: Init = {}): XdsAuthorization {
  return create(AuthorizationSchema, { name: 'p', namespace: 'default', ...init });
}

function withMatch(m: MatchInit): XdsAuthorization {
  return pol({ rules: [{ clauses: [{ matches: [m] }] }] });
}

test('convertAuthorization keeps the rule/clause/match nesting and every field', () => {
  const r = convertAuthorization(
    pol({
      scope: 2,
      action: 1,
      dryRun: true,
      rules: [
        {
          clauses: [
            {
              matches: [
                {
                  namespaces: [{ matchType: { case: 'exact', value: 'a' } }],
                  notNamespaces: [{ matchType: { case: 'prefix', value: 'kube-' } }],
                  serviceAccounts: [{ namespace: 'a', serviceAccount: 'sa' }],
                  notServiceAccounts: [{ namespace: 'b', serviceAccount: 'sb' }],
                  principals: [{ matchType: { case: 'suffix', value: '/sa/web' } }],
                  notPrincipals: [{ matchType: { case: 'presence', value: {} } }],
                  sourceIps: [{ address: ipToBytes('10.0.0.0')!, length: 8 }],
                  notSourceIps: [{ address: ipToBytes('10.1.0.0')!, length: 16 }],
                  destinationIps: [{ address: ipToBytes('fd00::')!, length: 64 }],
                  notDestinationIps: [{ address: ipToBytes('fd00::1')!, length: 128 }],
                  destinationPorts: [80],
                  notDestinationPorts: [9999],
                },
              ],
            },
            { matches: [] },
          ],
        },
        { clauses: [] },
      ],
    }),
  );
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.value, {
    name: 'p',
    namespace: 'default',
    scope: 'WorkloadSelector',
    action: 'Deny',
    dryRun: true,
    rules: [
      [
        [
          match({
            namespaces: [{ exact: 'a' }],
            notNamespaces: [{ prefix: 'kube-' }],
            serviceAccounts: [{ namespace: 'a', serviceAccount: 'sa' }],
            notServiceAccounts: [{ namespace: 'b', serviceAccount: 'sb' }],
            principals: [{ suffix: '/sa/web' }],
            notPrincipals: [{ presence: true }],
            sourceIps: [{ address: '10.0.0.0', prefixLength: 8 }],
            notSourceIps: [{ address: '10.1.0.0', prefixLength: 16 }],
            destinationIps: [{ address: 'fd00::', prefixLength: 64 }],
            notDestinationIps: [{ address: 'fd00::1', prefixLength: 128 }],
            destinationPorts: [80],
            notDestinationPorts: [9999],
          }),
        ],
        [],
      ],
      [],
    ],
  });
});

test('convertAuthorization defaults to a GLOBAL ALLOW policy', () => {
  const r = convertAuthorization(pol());
  assert.ok(r.ok);
  assert.equal(r.value.scope, 'Global');
  assert.equal(r.value.action, 'Allow');
  assert.deepEqual(r.value.rules, []);
});

test('convertAuthorization refuses what it cannot enforce exactly, naming the field', () => {
  const at = 'policy "default/p": rules[0].clauses[0].matches[0]';
  const cases: [string, XdsAuthorization, string][] = [
    ['missing name', pol({ name: '' }), 'name: is required'],
    ['missing namespace', pol({ namespace: '' }), 'namespace: is required'],
    [
      'unknown scope',
      pol({ scope: unknown(3) }),
      'policy "default/p": scope: unknown value 3; known: 0, 1, 2',
    ],
    [
      'unknown action',
      pol({ action: unknown(2) }),
      'policy "default/p": action: unknown value 2; known: 0, 1',
    ],
    [
      'string match without type',
      withMatch({ principals: [{}] }),
      `${at}.principals[0]: no match type set (exact, prefix, suffix or presence)`,
    ],
    [
      'bad source IP bytes',
      withMatch({ sourceIps: [{ address: new Uint8Array(3), length: 8 }] }),
      `${at}.source_ips[0].address: 3 bytes; an IP address has 4 (IPv4) or 16 (IPv6)`,
    ],
    [
      'prefix too long',
      withMatch({ notDestinationIps: [{ address: ipToBytes('10.0.0.0')!, length: 40 }] }),
      `${at}.not_destination_ips[0].length: prefix length 40 is above 32`,
    ],
    [
      'port too large',
      withMatch({ destinationPorts: [65536] }),
      `${at}.destination_ports[0]: port 65536 is outside 0-65535`,
    ],
  ];
  for (const [name, msg, want] of cases) {
    const r = convertAuthorization(msg);
    assert.equal(r.ok ? '' : r.reason, want, name);
  }
});
