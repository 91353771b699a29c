// Table tests of one policy against connections, mirroring upstream ztunnel's rbac.rs semantics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCidr } from '../net/ip.js';
import type { Match, StringMatch } from '../state/model.js';
import { match, policy } from '../test-support/fixtures.js';
import type { ConnectionAttributes } from './connection.js';
import { policyMatches, stringMatches } from './match.js';

const plaintext: ConnectionAttributes = {
  sourceIp: '127.0.0.1',
  destinationIp: '127.0.0.2',
  destinationPort: 8080,
};
const tls: ConnectionAttributes = {
  sourceIdentity: { trustDomain: 'td', namespace: 'namespace', serviceAccount: 'account' },
  sourceIp: '127.0.0.1',
  destinationIp: '127.0.0.2',
  destinationPort: 8080,
};
const tlsAlt: ConnectionAttributes = {
  sourceIdentity: { trustDomain: 'td-alt', namespace: 'ns-alt', serviceAccount: 'sa-alt' },
  sourceIp: '127.0.0.3',
  destinationIp: '127.0.0.4',
  destinationPort: 9090,
};

/** A policy with a single rule, clause and match. */
const single = (m: Partial<Match>) => policy({ name: 'p', rules: [[[match(m)]]] });

test('each match field, positive and negated, against plaintext, mTLS and other mTLS connections', () => {
  const cidr = (s: string) => [parseCidr(s)];
  const cases: [string, Partial<Match>, [boolean, boolean, boolean]][] = [
    ['namespaces', { namespaces: [{ exact: 'namespace' }] }, [false, true, false]],
    ['not_namespaces', { notNamespaces: [{ exact: 'namespace' }] }, [true, false, true]],
    [
      'service_accounts',
      { serviceAccounts: [{ namespace: 'namespace', serviceAccount: 'account' }] },
      [false, true, false],
    ],
    [
      'not_service_accounts',
      { notServiceAccounts: [{ namespace: 'namespace', serviceAccount: 'account' }] },
      [true, false, true],
    ],
    ['principals', { principals: [{ exact: 'td/ns/namespace/sa/account' }] }, [false, true, false]],
    [
      'not_principals',
      { notPrincipals: [{ exact: 'td/ns/namespace/sa/account' }] },
      [true, false, true],
    ],
    ['principals presence', { principals: [{ presence: true }] }, [false, true, true]],
    [
      'not_principals presence (STRICT mTLS)',
      { notPrincipals: [{ presence: true }] },
      [true, false, false],
    ],
    [
      'principals prefix never matches plaintext',
      { principals: [{ prefix: '' }] },
      [false, true, true],
    ],
    ['principals suffix', { principals: [{ suffix: '/sa/account' }] }, [false, true, false]],
    ['source_ips', { sourceIps: cidr('127.0.0.1/32') }, [true, true, false]],
    ['not_source_ips', { notSourceIps: cidr('127.0.0.1/32') }, [false, false, true]],
    ['destination_ips', { destinationIps: cidr('127.0.0.2/32') }, [true, true, false]],
    ['not_destination_ips', { notDestinationIps: cidr('127.0.0.2/32') }, [false, false, true]],
    ['destination_ips range', { destinationIps: cidr('127.0.0.1/24') }, [true, true, true]],
    ['destination_ports', { destinationPorts: [8080] }, [true, true, false]],
    ['not_destination_ports', { notDestinationPorts: [8080] }, [false, false, true]],
    [
      'positive and negative together',
      { destinationPorts: [8080, 9090], notSourceIps: cidr('127.0.0.3/32') },
      [true, true, false],
    ],
    [
      'fields are ANDed',
      { namespaces: [{ exact: 'namespace' }], destinationPorts: [9090] },
      [false, false, false],
    ],
    [
      'values within a field are ORed',
      { namespaces: [{ exact: 'namespace' }, { exact: 'ns-alt' }] },
      [false, true, true],
    ],
  ];
  for (const [name, m, [p, t, a]] of cases) {
    const pol = single(m);
    assert.deepEqual(
      [policyMatches(pol, plaintext), policyMatches(pol, tls), policyMatches(pol, tlsAlt)],
      [p, t, a],
      name,
    );
  }
});

test('empty structures: no rules never match; empty rule or clause always; an empty match never', () => {
  assert.equal(policyMatches(policy({ name: 'p', rules: [] }), plaintext), false, 'no rules');
  assert.equal(
    policyMatches(policy({ name: 'p', rules: [[]] }), plaintext),
    true,
    'a rule without clauses',
  );
  assert.equal(
    policyMatches(policy({ name: 'p', rules: [[[]]] }), plaintext),
    true,
    'a clause without matches',
  );
  assert.equal(
    policyMatches(policy({ name: 'p', rules: [[[match({})]]] }), plaintext),
    false,
    'a match with no fields',
  );
  assert.equal(
    policyMatches(
      policy({ name: 'p', rules: [[[match({}), match({ destinationPorts: [8080] })]]] }),
      plaintext,
    ),
    true,
    'an empty match is skipped, the next one can still match',
  );
});

test('rules are ORed, clauses ANDed, matches within a clause ORed', () => {
  const nsA = match({ namespaces: [{ exact: 'a' }] });
  const nsB = match({ namespaces: [{ exact: 'b' }] });
  const port80 = match({ destinationPorts: [80] });
  const conn = (namespace: string, port: number): ConnectionAttributes => ({
    sourceIdentity: { trustDomain: 'td', namespace, serviceAccount: 'sa' },
    sourceIp: '10.0.0.1',
    destinationIp: '10.0.0.2',
    destinationPort: port,
  });
  // One rule: (ns a OR ns b) AND port 80.
  const nested = policy({ name: 'nested', rules: [[[nsA, nsB], [port80]]] });
  assert.equal(policyMatches(nested, conn('a', 80)), true);
  assert.equal(policyMatches(nested, conn('b', 80)), true);
  assert.equal(policyMatches(nested, conn('c', 80)), false, 'wrong namespace');
  assert.equal(policyMatches(nested, conn('b', 81)), false, 'wrong port');
  // Two rules: ns a, OR ns b.
  const multi = policy({ name: 'multi', rules: [[[nsA]], [[nsB]]] });
  assert.equal(policyMatches(multi, conn('a', 1)), true);
  assert.equal(policyMatches(multi, conn('b', 1)), true);
  assert.equal(policyMatches(multi, conn('c', 1)), false);
});

test('string matches', () => {
  const cases: [StringMatch, string, boolean][] = [
    [{ exact: 'foo' }, 'foo', true],
    [{ exact: 'foo' }, 'not', false],
    [{ exact: 'foo' }, '', false],
    [{ prefix: 'foo' }, 'foobar', true],
    [{ prefix: 'foo' }, 'notfoo', false],
    [{ prefix: 'foo' }, '', false],
    [{ suffix: 'foo' }, 'barfoo', true],
    [{ suffix: 'foo' }, 'foonot', false],
    [{ suffix: 'foo' }, '', false],
    [{ presence: true }, 'foo', true],
    [{ presence: true }, '', false],
  ];
  for (const [m, value, want] of cases)
    assert.equal(stringMatches(m, value), want, `${JSON.stringify(m)} vs "${value}"`);
});
