import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactPrivateKeys } from './redact.pure.js';

test('private keys of inline certificates are printed as [redacted], everything else as it is', () => {
  const cluster = {
    name: 'outbound|443||api.edge.svc.cluster.local',
    transportSocket: {
      typedConfig: {
        commonTlsContext: {
          tlsCertificates: [
            {
              certificateChain: { inlineString: '-----BEGIN CERTIFICATE-----\n...' },
              privateKey: { inlineString: '-----BEGIN PRIVATE KEY-----\n...' },
            },
            { privateKey: { inlineBytes: 'LS0tLS1CRUdJTi' } },
          ],
        },
        sni: 'api.example.com',
      },
    },
  };
  const out = redactPrivateKeys(cluster);
  assert.doesNotMatch(JSON.stringify(out), /PRIVATE KEY|inlineBytes/);
  const certs = out.transportSocket.typedConfig.commonTlsContext.tlsCertificates;
  assert.deepEqual(certs[0], {
    certificateChain: { inlineString: '-----BEGIN CERTIFICATE-----\n...' },
    privateKey: { inlineString: '[redacted]' },
  });
  assert.deepEqual(certs[1], { privateKey: { inlineString: '[redacted]' } });
  assert.equal(out.transportSocket.typedConfig.sni, 'api.example.com');
  assert.ok(cluster.transportSocket.typedConfig.commonTlsContext.tlsCertificates[0]!.privateKey);
});
