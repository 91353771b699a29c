// What the root publisher does for a namespace's istio-ca-root-cert ConfigMap (pure part).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rootConfigMap, rootConfigMapAction } from './publish-root.js';

test('the root ConfigMap is created when missing, replaced when edited, left alone when current', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n';
  const current = rootConfigMap('prod', pem);
  assert.equal(current.metadata?.name, 'istio-ca-root-cert');
  assert.deepEqual(current.data, { 'root-cert.pem': pem });
  assert.equal(rootConfigMapAction(undefined, pem), 'create');
  assert.equal(rootConfigMapAction(current, pem), 'none');
  assert.equal(
    rootConfigMapAction({ ...current, data: { 'root-cert.pem': 'edited' } }, pem),
    'replace',
  );
  assert.equal(
    rootConfigMapAction({ ...current, metadata: { name: 'istio-ca-root-cert' } }, pem),
    'replace',
  );
});
