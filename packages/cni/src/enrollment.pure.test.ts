import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsCaptureEnabled, podEnrollment } from './enrollment.pure.js';

const policy = { excludeNamespaces: ['kube-system'], systemNamespace: 'istio-system' };
const pod = (over: object = {}) => ({ namespace: 'shop', name: 'web', ...over });
const ambient = { 'istio.io/dataplane-mode': 'ambient' };

test('namespace or pod label enrolls; pod label none opts out', () => {
  assert.deepEqual(podEnrollment(pod(), ambient, policy), { enrolled: true, by: 'namespace' });
  assert.deepEqual(podEnrollment(pod({ labels: ambient }), {}, policy), {
    enrolled: true,
    by: 'pod',
  });
  const none = podEnrollment(
    pod({ labels: { 'istio.io/dataplane-mode': 'none' } }),
    ambient,
    policy,
  );
  assert.equal(none.enrolled, false);
  assert.equal(podEnrollment(pod(), {}, policy).enrolled, false);
});

test('host network pods, ztunnel, excluded namespaces and sidecar pods are never enrolled', () => {
  for (const [p, why] of [
    [pod({ hostNetwork: true, labels: ambient }), 'host network pod'],
    [pod({ namespace: 'istio-system', labels: { app: 'ztunnel', ...ambient } }), 'ztunnel itself'],
    [pod({ namespace: 'kube-system', labels: ambient }), 'namespace kube-system is excluded'],
    [
      pod({ labels: ambient, annotations: { 'sidecar.istio.io/status': '{}' } }),
      'pod has an Istio sidecar',
    ],
  ] as const)
    assert.deepEqual(podEnrollment(p, ambient, policy), { enrolled: false, why });
});

test('DNS capture follows the node default unless the pod annotation says otherwise', () => {
  assert.equal(dnsCaptureEnabled(undefined, true), true);
  assert.equal(dnsCaptureEnabled({ 'ambient.istio.io/dns-capture': 'false' }, true), false);
  assert.equal(dnsCaptureEnabled({ 'ambient.istio.io/dns-capture': 'true' }, false), true);
});
