// Reading TokenReview responses (the pure part of cluster-mode authentication).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { indexPodsByNode } from './pod-index.js';
import { callerFromTokenReview } from './token-review.js';

test('a bound service-account token yields the namespace, account, pod and node', () => {
  const caller = callerFromTokenReview(
    {
      spec: {},
      status: {
        authenticated: true,
        audiences: ['istio-ca'],
        user: {
          username: 'system:serviceaccount:trellis-system:ztunnel',
          extra: {
            'authentication.kubernetes.io/pod-name': ['ztunnel-abc'],
            'authentication.kubernetes.io/pod-uid': ['uid-1'],
            'authentication.kubernetes.io/node-name': ['node-1'],
          },
        },
      },
    },
    ['istio-ca'],
  );
  assert.deepEqual(caller, {
    namespace: 'trellis-system',
    serviceAccount: 'ztunnel',
    node: 'node-1',
    pod: { name: 'ztunnel-abc', uid: 'uid-1' },
  });
});

test('unauthenticated, wrong-audience and non-service-account tokens are refused with the reason', () => {
  assert.throws(
    () =>
      callerFromTokenReview(
        { spec: {}, status: { authenticated: false, error: 'token expired' } },
        ['istio-ca'],
      ),
    /not authenticated: token expired/,
  );
  assert.throws(
    () =>
      callerFromTokenReview(
        {
          spec: {},
          status: {
            authenticated: true,
            audiences: ['other'],
            user: { username: 'system:serviceaccount:a:b' },
          },
        },
        ['istio-ca'],
      ),
    /not for audience istio-ca/,
  );
  assert.throws(
    () =>
      callerFromTokenReview(
        { spec: {}, status: { authenticated: true, user: { username: 'alice' } } },
        ['istio-ca'],
      ),
    /belongs to "alice", not to a service account/,
  );
});

test('the pod index lists running service accounts per node, skipping finished pods', () => {
  const pod = (ns: string, sa: string | undefined, node: string, phase = 'Running') => ({
    metadata: { namespace: ns },
    spec: { nodeName: node, serviceAccountName: sa, containers: [] },
    status: { phase },
  });
  const idx = indexPodsByNode([
    pod('prod', 'db', 'n1'),
    pod('prod', 'db', 'n1'),
    pod('web', undefined, 'n1'),
    pod('prod', 'api', 'n1', 'Succeeded'),
    pod('prod', 'api', 'n2'),
  ]);
  assert.deepEqual(idx.get('n1'), [
    { namespace: 'prod', serviceAccount: 'db' },
    { namespace: 'web', serviceAccount: 'default' },
  ]);
  assert.deepEqual(idx.get('n2'), [{ namespace: 'prod', serviceAccount: 'api' }]);
});
