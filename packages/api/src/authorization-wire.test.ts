// Field numbers of istio.security messages, checked against hand-encoded bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Action, AuthorizationSchema, Scope } from './gen/istio/security/authorization_pb.js';
import { bytes, lenField, packed, str, vint } from './test-support/wire.js';

test('Authorization: name=1, namespace=2, scope=3, action=4, rules=5 > clauses=1 > matches=2', () => {
  // The shape a STRICT PeerAuthentication becomes: DENY when not_principals(4) has presence(4).
  const match = lenField(4, lenField(4, []));
  const wire = bytes(
    str(1, 'converted_peer_authentication_strict'),
    str(2, 'prod'),
    vint(3, 1),
    vint(4, 1),
    lenField(5, lenField(1, lenField(2, match))),
  );
  const a = fromBinary(AuthorizationSchema, wire);
  assert.equal(a.name, 'converted_peer_authentication_strict');
  assert.equal(a.namespace, 'prod');
  assert.equal(a.scope, Scope.NAMESPACE);
  assert.equal(a.action, Action.DENY);
  const m = a.rules[0]?.clauses[0]?.matches[0];
  assert.equal(m?.notPrincipals[0]?.matchType.case, 'presence');
});

test('Authorization.action DENY encodes as tag 4 value 1; ALLOW is the zero value', () => {
  const deny = create(AuthorizationSchema, { action: Action.DENY });
  assert.deepEqual([...toBinary(AuthorizationSchema, deny)], vint(4, 1));
  assert.equal(fromBinary(AuthorizationSchema, new Uint8Array()).action, Action.ALLOW);
});

test('Match: namespaces=1, principals=3, source_ips=5, destination_ports=9 (packed), service_accounts=11', () => {
  const match = [
    ...lenField(1, str(1, 'prod')),
    ...lenField(3, str(2, 'cluster.local/ns/prod/')),
    ...lenField(5, [...lenField(1, [10, 0, 0, 0]), ...vint(2, 8)]),
    ...packed(9, [80, 443]),
    ...lenField(11, [...str(1, 'prod'), ...str(2, 'api')]),
    ...lenField(12, [...str(1, 'prod'), ...str(2, 'batch')]),
  ];
  const a = fromBinary(AuthorizationSchema, bytes(lenField(5, lenField(1, lenField(2, match)))));
  const m = a.rules[0]?.clauses[0]?.matches[0];
  assert.ok(m);
  assert.deepEqual(m.namespaces[0]?.matchType, { case: 'exact', value: 'prod' });
  assert.deepEqual(m.principals[0]?.matchType, { case: 'prefix', value: 'cluster.local/ns/prod/' });
  assert.deepEqual([...(m.sourceIps[0]?.address ?? [])], [10, 0, 0, 0]);
  assert.equal(m.sourceIps[0]?.length, 8);
  assert.deepEqual(m.destinationPorts, [80, 443]);
  assert.equal(m.serviceAccounts[0]?.serviceAccount, 'api');
  assert.equal(m.notServiceAccounts[0]?.serviceAccount, 'batch');
});
