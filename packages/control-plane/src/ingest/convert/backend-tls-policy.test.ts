// BackendTLSPolicy and ConfigMap admission: what the gateway translator reads, and bad objects
// refused with the field at fault.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admitObject } from './admit.js';

const policy = (
  validation: Record<string, unknown>,
  targetRefs: unknown = [{ group: '', kind: 'Service', name: 'web', sectionName: 'https' }],
) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'BackendTLSPolicy',
  metadata: { name: 'p', namespace: 'ns' },
  spec: { targetRefs, validation },
});

test('a BackendTLSPolicy keeps its targets, hostname, CA sources and SANs', () => {
  const r = admitObject(
    'backendTLSPolicies',
    policy({
      hostname: 'web.example.com',
      caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }],
      subjectAltNames: [
        { type: 'Hostname', hostname: 'a.example.com' },
        { type: 'URI', uri: 'spiffe://example.com/web' },
      ],
    }),
  );
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.value.spec, {
    targetRefs: [{ group: '', kind: 'Service', name: 'web', sectionName: 'https' }],
    validation: {
      hostname: 'web.example.com',
      caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }],
      subjectAltNames: [
        { type: 'Hostname', value: 'a.example.com' },
        { type: 'URI', value: 'spiffe://example.com/web' },
      ],
    },
  });
  assert.deepEqual(r.value.status, { ancestors: [] });
});

test('a BackendTLSPolicy without hostname, CA source or with an unknown SAN type is refused', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ wellKnownCACertificates: 'System' }, /spec\.validation\.hostname: expected a string/],
    [
      { hostname: 'a.example.com' },
      /spec\.validation: expected caCertificateRefs or wellKnownCACertificates/,
    ],
    [
      {
        hostname: 'a.example.com',
        wellKnownCACertificates: 'System',
        subjectAltNames: [{ type: 'IP', hostname: '10.0.0.1' }],
      },
      /spec\.validation\.subjectAltNames\[0\]\.type: expected Hostname or URI, got the string "IP"/,
    ],
  ];
  for (const [validation, message] of cases) {
    const r = admitObject('backendTLSPolicies', policy(validation));
    assert.equal(r.ok, false, JSON.stringify(validation));
    if (!r.ok) assert.match(r.reason, message);
  }
});

test('a ConfigMap keeps only ca.crt', () => {
  const r = admitObject('configMaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'ca', namespace: 'ns' },
    data: { 'ca.crt': 'PEM', other: 'x' },
  });
  assert.ok(r.ok);
  assert.deepEqual(r.value, { metadata: { name: 'ca', namespace: 'ns' }, caCrt: 'PEM' });
});
