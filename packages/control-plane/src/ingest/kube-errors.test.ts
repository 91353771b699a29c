// Client-node errors become one readable line: the HTTP code and the apiserver's message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import { describeKubeError, kubeErrorMessage, kubeStatusOf } from './kube-errors.js';

const notFound = new ApiException(
  404,
  'HTTP-Code: 404\nMessage: Unknown API Status Code!\nBody: ...\nHeaders: {...}',
  JSON.stringify({ kind: 'Status', message: 'namespaces "istio-system" not found', code: 404 }),
  {},
);

test('the apiserver message replaces the multi-line dump', () => {
  assert.equal(kubeStatusOf(notFound), 404);
  assert.equal(kubeErrorMessage(notFound), 'HTTP 404: namespaces "istio-system" not found');
  assert.equal(kubeStatusOf(Object.assign(new Error('Gone'), { statusCode: 410 })), 410);
  assert.equal(
    kubeErrorMessage(new Error('connect ECONNREFUSED 127.0.0.1:6443\nmore')),
    'connect ECONNREFUSED 127.0.0.1:6443',
  );
});

test("a wrapped error keeps its own words and the cause's apiserver message", () => {
  const wrapped = new Error(
    `cannot save the new CA to Secret istio-system/istio-ca-secret: ${notFound.message}`,
    { cause: notFound },
  );
  assert.equal(
    describeKubeError(wrapped),
    'cannot save the new CA to Secret istio-system/istio-ca-secret: HTTP 404: namespaces "istio-system" not found',
  );
});
