import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createCsr, parseCsr } from './csr.js';
import { generateKeyPair } from './keys.js';
import { decodePem, encodePem } from './pem.js';
import { hasOpenssl, NO_OPENSSL, openssl, tempDir } from './test-support/mesh-pki.js';

const ID = 'spiffe://cluster.local/ns/default/sa/web';

describe('createCsr / parseCsr', () => {
  it('round-trips the identity, the public key and a valid signature, with an empty subject', async () => {
    const keys = await generateKeyPair();
    const csr = await createCsr({ identity: ID, privateKey: keys.privateKey });
    assert.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
    const parsed = await parseCsr(csr);
    assert.deepEqual(parsed, {
      publicKey: keys.publicKey,
      keyAlgorithm: { kind: 'ecdsa', curve: 'P-256' },
      uriSans: [ID],
      dnsSans: [],
      subject: '',
      signatureValid: true,
    });
  });

  it('reports P-384 keys', async () => {
    const keys = await generateKeyPair('ecdsa-p384');
    const parsed = await parseCsr(await createCsr({ identity: ID, privateKey: keys.privateKey }));
    assert.deepEqual(parsed.keyAlgorithm, { kind: 'ecdsa', curve: 'P-384' });
    assert.equal(parsed.signatureValid, true);
  });

  it('is accepted by openssl req -verify with one critical URI SAN', async (t) => {
    if (!hasOpenssl) return t.skip(NO_OPENSSL);
    const keys = await generateKeyPair();
    const dir = tempDir(t, {
      'csr.pem': await createCsr({ identity: ID, privateKey: keys.privateKey }),
    });
    const r = openssl(['req', '-in', join(dir, 'csr.pem'), '-verify', '-noout', '-text']);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /verify OK/);
    assert.match(
      r.output,
      /X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster.local\/ns\/default\/sa\/web\n/,
    );
    assert.match(r.output, /Subject:\s*\n/);
  });

  it('parses a CSR made by openssl with an RSA key, a subject and a DNS SAN', async (t) => {
    if (!hasOpenssl) return t.skip(NO_OPENSSL);
    const dir = tempDir(t);
    const r = openssl(
      [
        'req',
        '-new',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'csr.pem',
        '-subj',
        '/CN=legacy',
        '-addext',
        'subjectAltName=DNS:web.default.svc,URI:spiffe://cluster.local/ns/default/sa/legacy',
      ],
      dir,
    );
    assert.equal(r.status, 0, r.output);
    const parsed = await parseCsr(readFileSync(join(dir, 'csr.pem'), 'utf8'));
    assert.deepEqual(parsed.keyAlgorithm, { kind: 'rsa', bits: 2048 });
    assert.deepEqual(parsed.dnsSans, ['web.default.svc']);
    assert.deepEqual(parsed.uriSans, ['spiffe://cluster.local/ns/default/sa/legacy']);
    assert.equal(parsed.subject, 'CN=legacy');
    assert.equal(parsed.signatureValid, true);
  });

  it('reports a tampered signature as invalid', async () => {
    const keys = await generateKeyPair();
    const [block] = decodePem(
      await createCsr({ identity: ID, privateKey: keys.privateKey }),
      'CSR',
    );
    const der = Buffer.from(block!.der);
    der[der.length - 1] ^= 0x01;
    assert.equal((await parseCsr(encodePem('CERTIFICATE REQUEST', der))).signatureValid, false);
  });

  it('refuses to create a CSR for an invalid identity or key', async () => {
    const keys = await generateKeyPair();
    await assert.rejects(
      createCsr({ identity: 'spiffe://cluster.local', privateKey: keys.privateKey }),
      /needs a path/,
    );
    await assert.rejects(
      createCsr({ identity: 'https://x/y', privateKey: keys.privateKey }),
      /must start with 'spiffe:\/\/'/,
    );
    await assert.rejects(
      createCsr({ identity: ID, privateKey: 'garbage' }),
      /private key: no PEM block found/,
    );
  });

  it('says what is wrong with garbage input', async () => {
    const keys = await generateKeyPair();
    const csr = await createCsr({ identity: ID, privateKey: keys.privateKey });
    await assert.rejects(parseCsr('hello'), /^Error: CSR: no PEM block found/);
    await assert.rejects(parseCsr(''), /CSR: no PEM block found/);
    await assert.rejects(
      parseCsr(keys.publicKey),
      /CSR: expected a CERTIFICATE REQUEST PEM block, found PUBLIC KEY/,
    );
    await assert.rejects(
      parseCsr('-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----'),
      /CSR: the CERTIFICATE REQUEST PEM block is not valid base64/,
    );
    await assert.rejects(
      parseCsr(
        '-----BEGIN CERTIFICATE REQUEST-----\naGVsbG8gd29ybGQh\n-----END CERTIFICATE REQUEST-----',
      ),
      /CSR: not a valid PKCS#10 certificate request/,
    );
    await assert.rejects(
      parseCsr(csr.slice(0, 100)),
      /CSR: PEM block has no matching -----END line/,
    );
    await assert.rejects(
      parseCsr(csr + csr),
      /CSR: expected one CERTIFICATE REQUEST PEM block, found 2/,
    );
  });
});
