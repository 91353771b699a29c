import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspectCertificate } from './certificate.js';
import { createIntermediateCa, createRootCa, issueWorkloadCertificate } from './issue.js';
import { generateKeyPair } from './keys.js';
import { DAY, hasOpenssl, meshPki, NO_OPENSSL, openssl, tempDir } from './test-support/mesh-pki.js';

const ID = 'spiffe://cluster.local/ns/default/sa/web';

describe('createRootCa', () => {
  it('makes a self-signed CA with critical basicConstraints and keyCertSign', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const root = await createRootCa({
      commonName: 'Root',
      org: 'cluster.local',
      ttlMs: 10 * DAY,
      now,
    });
    assert.deepEqual(root.chain, []);
    assert.match(root.key, /^-----BEGIN PRIVATE KEY-----/);
    const info = inspectCertificate(root.cert);
    assert.equal(info.subject, 'O=cluster.local, CN=Root');
    assert.equal(info.issuer, info.subject);
    assert.deepEqual(info.basicConstraints, { ca: true, critical: true });
    assert.deepEqual(info.keyUsage, {
      usages: ['digitalSignature', 'keyCertSign', 'cRLSign'],
      critical: true,
    });
    assert.equal(info.authorityKeyId, info.subjectKeyId);
    assert.deepEqual(info.publicKey, { kind: 'ecdsa', curve: 'P-256' });
    assert.equal(info.notBefore.toISOString(), '2029-12-31T23:59:00.000Z');
    assert.equal(info.notAfter.toISOString(), '2030-01-11T00:00:00.000Z');
  });

  it('honours keyAlgorithm P-384 and pathLen, and validates options', async () => {
    const root = await createRootCa({
      commonName: 'Root',
      ttlMs: DAY,
      keyAlgorithm: 'ecdsa-p384',
      pathLen: 1,
    });
    const info = inspectCertificate(root.cert);
    assert.deepEqual(info.publicKey, { kind: 'ecdsa', curve: 'P-384' });
    assert.deepEqual(info.basicConstraints, { ca: true, pathLength: 1, critical: true });
    await assert.rejects(
      createRootCa({ commonName: '', ttlMs: DAY }),
      /commonName must be a non-empty string/,
    );
    await assert.rejects(
      createRootCa({ commonName: 'x', ttlMs: 0 }),
      /ttlMs must be a positive number/,
    );
    await assert.rejects(
      createRootCa({ commonName: 'x', ttlMs: DAY, pathLen: -1 }),
      /pathLen must be a non-negative integer/,
    );
  });
});

describe('createIntermediateCa', () => {
  it('is signed by its issuer, defaults to pathLen 0 and carries the chain above it', async () => {
    const { root, intermediate } = await meshPki();
    const rootInfo = inspectCertificate(root.cert);
    const info = inspectCertificate(intermediate.cert);
    assert.equal(info.issuer, rootInfo.subject);
    assert.equal(info.authorityKeyId, rootInfo.subjectKeyId);
    assert.deepEqual(info.basicConstraints, { ca: true, pathLength: 0, critical: true });
    assert.deepEqual(intermediate.chain, [root.cert]);
    await assert.rejects(
      createIntermediateCa({ issuer: intermediate, commonName: 'deeper', ttlMs: DAY }),
      /issuer "CN=Trellis Intermediate CA" has pathLen 0 and cannot sign CA certificates/,
    );
  });
});

describe('issueWorkloadCertificate', () => {
  it('issues a SPIFFE leaf with the required extensions', async () => {
    const { root, intermediate } = await meshPki();
    const keys = await generateKeyPair();
    const now = new Date();
    const issued = await issueWorkloadCertificate({
      publicKey: keys.publicKey,
      identity: ID,
      issuer: intermediate,
      ttlMs: DAY,
      now,
    });
    assert.deepEqual(issued.chain, [issued.cert, intermediate.cert, root.cert]);
    const leaf = inspectCertificate(issued.cert);
    assert.equal(leaf.subject, '');
    assert.equal(leaf.issuer, inspectCertificate(intermediate.cert).subject);
    assert.deepEqual(leaf.subjectAltName, { uris: [ID], dnsNames: [], critical: true });
    assert.deepEqual(leaf.keyUsage, {
      usages: ['digitalSignature', 'keyEncipherment'],
      critical: true,
    });
    assert.deepEqual(leaf.extendedKeyUsage?.usages, ['serverAuth', 'clientAuth']);
    assert.deepEqual(leaf.basicConstraints, { ca: false, critical: true });
    assert.equal(leaf.authorityKeyId, inspectCertificate(intermediate.cert).subjectKeyId);
    assert.match(leaf.subjectKeyId ?? '', /^[0-9a-f]{40}$/);
    assert.match(leaf.serialNumber, /^[4-7][0-9a-f]{31}$/, 'a positive 128-bit serial');
    assert.equal(
      leaf.notBefore.getTime(),
      Math.floor((now.getTime() - 60_000) / 1000) * 1000,
      'backdated one minute',
    );
    assert.equal(leaf.notAfter.getTime(), Math.floor((now.getTime() + DAY) / 1000) * 1000);
    const again = await issueWorkloadCertificate({
      publicKey: keys.publicKey,
      identity: ID,
      issuer: intermediate,
      ttlMs: DAY,
    });
    assert.notEqual(inspectCertificate(again.cert).serialNumber, leaf.serialNumber);
  });

  it('passes openssl verify and shows the critical extensions in openssl x509 -text', async (t) => {
    if (!hasOpenssl) return t.skip(NO_OPENSSL);
    const { root, intermediate } = await meshPki();
    const keys = await generateKeyPair();
    const issued = await issueWorkloadCertificate({
      publicKey: keys.publicKey,
      identity: ID,
      issuer: intermediate,
      ttlMs: DAY,
    });
    const dir = tempDir(t, {
      'root.pem': root.cert,
      'inter.pem': intermediate.cert,
      'leaf.pem': issued.cert,
    });
    for (const purpose of ['sslserver', 'sslclient']) {
      const r = openssl(
        [
          'verify',
          '-purpose',
          purpose,
          '-CAfile',
          'root.pem',
          '-untrusted',
          'inter.pem',
          'leaf.pem',
        ],
        dir,
      );
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /leaf.pem: OK/);
    }
    const text = openssl(['x509', '-in', 'leaf.pem', '-noout', '-text'], dir).output;
    assert.match(
      text,
      /X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/cluster.local\/ns\/default\/sa\/web\n/,
    );
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE\n/);
    assert.match(
      text,
      /X509v3 Extended Key Usage: \s*\n\s+TLS Web Server Authentication, TLS Web Client Authentication/,
    );
    assert.match(text, /X509v3 Authority Key Identifier/);
    assert.match(text, /X509v3 Subject Key Identifier/);
    // Without the intermediate the chain does not verify: the check above is not vacuous.
    assert.notEqual(openssl(['verify', '-CAfile', 'root.pem', 'leaf.pem'], dir).status, 0);
  });

  it('signs with a plug-in RSA root made by openssl, keeping its subject encoding', async (t) => {
    if (!hasOpenssl) return t.skip(NO_OPENSSL);
    const dir = tempDir(t);
    const made = openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'ca-key.pem',
        '-out',
        'ca-cert.pem',
        '-days',
        '3',
        '-subj',
        '/O=Istio/CN=Root CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    assert.equal(made.status, 0, made.output);
    const issuer = {
      cert: readFileSync(join(dir, 'ca-cert.pem'), 'utf8'),
      key: readFileSync(join(dir, 'ca-key.pem'), 'utf8'),
      chain: [],
    };
    const keys = await generateKeyPair();
    const issued = await issueWorkloadCertificate({
      publicKey: keys.publicKey,
      identity: ID,
      issuer,
      ttlMs: DAY,
    });
    writeFileSync(join(dir, 'leaf.pem'), issued.cert);
    const r = openssl(['verify', '-CAfile', 'ca-cert.pem', 'leaf.pem'], dir);
    assert.equal(r.status, 0, r.output);
  });

  it('never outlives its issuer', async () => {
    const root = await createRootCa({ commonName: 'short', ttlMs: 60 * 60_000 });
    const keys = await generateKeyPair();
    const issued = await issueWorkloadCertificate({
      publicKey: keys.publicKey,
      identity: ID,
      issuer: root,
      ttlMs: DAY,
    });
    assert.equal(
      inspectCertificate(issued.cert).notAfter.getTime(),
      inspectCertificate(root.cert).notAfter.getTime(),
    );
  });

  it('refuses unusable issuers and bad requests with a clear error', async () => {
    const { root, intermediate } = await meshPki();
    const keys = await generateKeyPair();
    const base = { publicKey: keys.publicKey, identity: ID, issuer: intermediate, ttlMs: DAY };
    await assert.rejects(
      issueWorkloadCertificate({ ...base, now: new Date(Date.now() + 40 * DAY) }),
      /issuer "CN=Trellis Intermediate CA" expired at /,
    );
    await assert.rejects(
      issueWorkloadCertificate({ ...base, issuer: { ...intermediate, key: root.key } }),
      /issuer key does not match/,
    );
    const leaf = await issueWorkloadCertificate(base);
    await assert.rejects(
      issueWorkloadCertificate({
        ...base,
        issuer: { cert: leaf.cert, key: keys.privateKey, chain: [] },
      }),
      /issuer "spiffe:\/\/cluster.local\/ns\/default\/sa\/web" is not a CA/,
    );
    await assert.rejects(
      issueWorkloadCertificate({ ...base, identity: 'spiffe://cluster.local/ns/a/../b' }),
      /'.' or '..' segments/,
    );
    await assert.rejects(
      issueWorkloadCertificate({ ...base, publicKey: keys.privateKey }),
      /public key: expected a PUBLIC KEY PEM block, found PRIVATE KEY/,
    );
    await assert.rejects(
      issueWorkloadCertificate({ ...base, ttlMs: Number.NaN }),
      /ttlMs must be a positive number/,
    );
    await assert.rejects(
      issueWorkloadCertificate({ ...base, backdateMs: -1 }),
      /backdateMs must be zero or more/,
    );
  });
});
