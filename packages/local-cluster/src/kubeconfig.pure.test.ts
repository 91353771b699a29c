import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { renderKubeconfig } from './kubeconfig.pure.js';

test('kubeconfig embeds the CA and client credentials and selects its context', () => {
  const doc = parse(
    renderKubeconfig({
      clusterName: 'dev',
      server: 'https://172.28.0.1:6443',
      caPem: 'CA',
      user: 'admin',
      certPem: 'CERT',
      keyPem: 'KEY',
    }),
  );
  assert.equal(doc['current-context'], 'trellis-dev');
  assert.equal(doc.clusters[0].cluster.server, 'https://172.28.0.1:6443');
  assert.equal(
    Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString(),
    'CA',
  );
  assert.equal(Buffer.from(doc.users[0].user['client-key-data'], 'base64').toString(), 'KEY');
  assert.deepEqual(doc.contexts[0], {
    name: 'trellis-dev',
    context: { cluster: 'trellis-dev', user: 'admin' },
  });
});
