// A Gateway's spec.tls admission: the frontend validation (default and per port) and the backend
// client certificate with their defaults, and bad values refused with the field at fault.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admitObject } from './admit.js';

const gateway = (tls: unknown) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'gw', namespace: 'edge' },
  spec: {
    gatewayClassName: 'trellis',
    listeners: [{ name: 'h', port: 443, protocol: 'HTTPS' }],
    tls,
  },
});

test('spec.tls keeps the frontend validation and the backend certificate, with defaults', () => {
  const r = admitObject(
    'gateways',
    gateway({
      frontend: {
        default: {
          validation: { caCertificateRefs: [{ kind: 'ConfigMap', group: '', name: 'ca' }] },
        },
        perPort: [
          {
            port: 8443,
            tls: {
              validation: {
                mode: 'AllowInsecureFallback',
                caCertificateRefs: [{ kind: 'ConfigMap', name: 'other', namespace: 'certs' }],
              },
            },
          },
        ],
      },
      backend: { clientCertificateRef: { name: 'client' } },
    }),
  );
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.value.spec.tls, {
    frontend: {
      default: {
        validation: {
          caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca', namespace: 'edge' }],
          mode: 'AllowValidOnly',
        },
      },
      perPort: [
        {
          port: 8443,
          tls: {
            validation: {
              caCertificateRefs: [
                { group: '', kind: 'ConfigMap', name: 'other', namespace: 'certs' },
              ],
              mode: 'AllowInsecureFallback',
            },
          },
        },
      ],
    },
    backend: {
      clientCertificateRef: { group: '', kind: 'Secret', name: 'client', namespace: 'edge' },
    },
  });
});

test('a bad spec.tls is refused naming the field', () => {
  const cases: [unknown, RegExp][] = [
    [
      { frontend: { default: {}, perPort: [{ port: 70000, tls: {} }] } },
      /spec\.tls\.frontend\.perPort\[0\]\.port/,
    ],
    [
      { frontend: { default: { validation: { caCertificateRefs: [{ kind: 'ConfigMap' }] } } } },
      /spec\.tls\.frontend\.default\.validation\.caCertificateRefs\[0\]\.name/,
    ],
    [{ backend: { clientCertificateRef: 'client' } }, /spec\.tls\.backend\.clientCertificateRef/],
  ];
  for (const [tls, message] of cases) {
    const r = admitObject('gateways', gateway(tls));
    assert.ok(!r.ok, `admitted ${JSON.stringify(tls)}`);
    assert.match(r.reason, message);
  }
});
