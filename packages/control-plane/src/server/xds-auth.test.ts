// Who an xDS caller on the secure port is: from its bearer token (any authenticator), else from
// the SPIFFE ID of its verified client certificate in the mesh's trust domain.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { staticIdentities } from '@trellis/ca';
import { authenticateXdsCall, callerFromSubjectAltName } from './xds-auth.js';

const { authenticator } = staticIdentities([
  { token: 'secret', namespace: 'istio-system', serviceAccount: 'ztunnel', node: 'n1' },
]);
const options = { authenticator, trustDomain: 'cluster.local' };
const md = (authorization?: string) => {
  const m = new Metadata();
  if (authorization !== undefined) m.set('authorization', authorization);
  return m;
};

test('a valid bearer token identifies the caller', async () => {
  assert.deepEqual(await authenticateXdsCall(md('Bearer secret'), undefined, options), {
    namespace: 'istio-system',
    serviceAccount: 'ztunnel',
    node: 'n1',
    via: 'token',
  });
});

test('refusals say what is wrong', async () => {
  await assert.rejects(
    authenticateXdsCall(md('Bearer nope'), undefined, options),
    /the bearer token was refused: .*static tokens/,
  );
  await assert.rejects(
    authenticateXdsCall(md('Basic abc'), undefined, options),
    /not "Bearer <token>"/,
  );
  await assert.rejects(authenticateXdsCall(md(), undefined, options), /no credentials/);
  // A bad token is refused even when a certificate is also presented.
  await assert.rejects(
    authenticateXdsCall(md('Bearer nope'), 'URI:spiffe://cluster.local/ns/a/sa/b', options),
    /refused/,
  );
});

test('a verified certificate with a mesh SPIFFE ID identifies the caller', async () => {
  assert.deepEqual(
    await authenticateXdsCall(
      md(),
      'DNS:x.example, URI:spiffe://cluster.local/ns/bookinfo/sa/reviews',
      options,
    ),
    {
      namespace: 'bookinfo',
      serviceAccount: 'reviews',
      via: 'certificate',
    },
  );
  for (const san of [
    'URI:spiffe://other.domain/ns/a/sa/b',
    'URI:spiffe://cluster.local/not/a/workload',
    'DNS:istiod.istio-system.svc',
    '',
  ])
    assert.equal(callerFromSubjectAltName(san, 'cluster.local'), undefined, san);
});
