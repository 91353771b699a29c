import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  certificateUser,
  decisionKey,
  forbiddenMessage,
  requestAttributes,
  subjectAccessReview,
} from './kubelet-authz.pure.js';

test('kubelet paths map to node subresources and HTTP methods to verbs', () => {
  assert.deepEqual(requestAttributes('POST', '/exec/default/p/c'), [
    { verb: 'create', subresource: 'proxy' },
  ]);
  assert.deepEqual(requestAttributes('GET', '/containerLogs/a/b/c'), [
    { verb: 'get', subresource: 'proxy' },
  ]);
  assert.deepEqual(requestAttributes('GET', '/healthz'), [
    { verb: 'get', subresource: 'healthz' },
    { verb: 'get', subresource: 'proxy' },
  ]);
  assert.deepEqual(requestAttributes('GET', '/stats/summary'), [
    { verb: 'get', subresource: 'stats' },
  ]);
  assert.deepEqual(requestAttributes('GET', '/logs/'), [{ verb: 'get', subresource: 'log' }]);
  assert.deepEqual(requestAttributes('GET', '/metricsx'), [{ verb: 'get', subresource: 'proxy' }]);
});

test('a client certificate names the user by CN and groups by O', () => {
  assert.deepEqual(certificateUser({ CN: 'kube-apiserver-kubelet-client' }), {
    username: 'kube-apiserver-kubelet-client',
    groups: ['system:authenticated'],
  });
  assert.deepEqual(certificateUser({ CN: 'system:node:n1', O: ['system:nodes', 'x'] })?.groups, [
    'system:nodes',
    'x',
    'system:authenticated',
  ]);
  assert.equal(certificateUser({ O: 'x' }), undefined);
});

test('the SubjectAccessReview asks about this node and the message names what was denied', () => {
  const u = { username: 'alice', groups: ['g'] };
  const a = { verb: 'create', subresource: 'proxy' };
  const sar = subjectAccessReview(u, 'n1', a) as { spec: { resourceAttributes: object } };
  assert.deepEqual(sar.spec.resourceAttributes, {
    verb: 'create',
    group: '',
    version: 'v1',
    resource: 'nodes',
    subresource: 'proxy',
    name: 'n1',
  });
  assert.equal(
    forbiddenMessage(u, a),
    'Forbidden (user=alice, verb=create, resource=nodes, subresource(s)=[proxy])',
  );
  assert.notEqual(decisionKey(u, a), decisionKey({ ...u, groups: ['h'] }, a));
});
