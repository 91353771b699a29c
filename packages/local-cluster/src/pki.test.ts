import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { X509Certificate } from 'node:crypto';
import { ensurePki } from './pki.js';
import { extensionsConfig, subjectArg } from './pki-specs.pure.js';

test('openssl config text names the subject, usage and SANs', () => {
  const spec = {
    file: 'x',
    commonName: 'system:node:n1',
    organization: 'system:nodes',
    usage: 'client' as const,
  };
  assert.equal(subjectArg(spec), '/O=system:nodes/CN=system:node:n1');
  assert.match(extensionsConfig(spec), /extendedKeyUsage = clientAuth/);
  assert.doesNotMatch(extensionsConfig(spec), /subjectAltName/);
  assert.match(
    extensionsConfig({ ...spec, usage: 'server', dnsNames: ['a'], ipAddresses: ['1.2.3.4'] }),
    /subjectAltName = DNS:a, IP:1.2.3.4/,
  );
});

test('ensurePki issues a CA, an apiserver cert with the service SANs, node client certs and a service-account key pair', async () => {
  const dir = await mkdtemp(`${tmpdir()}/trellis-pki-`);
  try {
    await ensurePki(dir, '172.28.0.1', '10.96.0.1', [{ name: 'dev-node1', ip: '172.28.0.11' }]);
    const ca = new X509Certificate(await readFile(`${dir}/ca.crt`));
    const api = new X509Certificate(await readFile(`${dir}/apiserver.crt`));
    assert.ok(api.verify(ca.publicKey));
    assert.ok(api.checkIP('10.96.0.1') && api.checkIP('172.28.0.1') && api.checkIP('127.0.0.1'));
    assert.ok(api.checkHost('kubernetes.default.svc.cluster.local'));
    const node = new X509Certificate(await readFile(`${dir}/node-dev-node1.crt`));
    assert.ok(node.verify(ca.publicKey));
    assert.match(node.subject, /O=system:nodes/);
    assert.match(node.subject, /CN=system:node:dev-node1/);
    const serving = new X509Certificate(await readFile(`${dir}/node-dev-node1-serving.crt`));
    assert.ok(serving.checkIP('172.28.0.11') && serving.checkHost('dev-node1'));
    assert.match(await readFile(`${dir}/sa.pub`, 'utf8'), /BEGIN PUBLIC KEY/);
    const before = await readFile(`${dir}/apiserver.crt`, 'utf8');
    await ensurePki(dir, '172.28.0.1', '10.96.0.1', [{ name: 'dev-node1', ip: '172.28.0.11' }]);
    assert.equal(
      await readFile(`${dir}/apiserver.crt`, 'utf8'),
      before,
      'existing certificates are kept',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
