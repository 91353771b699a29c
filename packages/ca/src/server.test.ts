// CreateCertificate over real gRPC + TLS on 127.0.0.1 with static tokens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { createCsr, generateKeyPair, inspectCertificate } from '@trellis/pki';
import { x509 } from './x509.js';
import { csrFor, opensslVerify, startCa, tempDir, WEB } from './test-support/static-token-ca.js';

async function rejects(p: Promise<unknown>, code: status, text: RegExp) {
  await assert.rejects(p, (err: { code?: number; details?: string }) => {
    assert.equal(err.code, code, `code ${err.code}: ${err.details}`);
    assert.match(err.details ?? '', text);
    return true;
  });
}

test('a workload gets a chain for its own identity that openssl verifies, leaf first and root last', async (t) => {
  const dir = tempDir(t);
  const ca = await startCa(t, dir);
  const chain = await ca.client('tok-web').createCertificate(await csrFor(WEB));
  assert.equal(chain.length, 2);
  assert.match(opensslVerify(dir, chain), /OK/);
  const leaf = inspectCertificate(chain[0]!);
  assert.deepEqual(leaf.subjectAltName?.uris, [WEB]);
  assert.equal(leaf.subjectAltName?.critical, true);
  assert.deepEqual([...(leaf.extendedKeyUsage?.usages ?? [])].sort(), ['clientAuth', 'serverAuth']);
  assert.equal(chain[chain.length - 1]!.trim(), ca.ca.rootPem.trim());
  const hours = (leaf.notAfter.getTime() - Date.now()) / 3600_000;
  assert.ok(hours > 23.9 && hours <= 24, `default TTL 24h, got ${hours}h`);
  assert.ok(Date.now() - leaf.notBefore.getTime() >= 60_000, 'notBefore is backdated');
});

test("the CA's TLS certificate chains to the root and names the listen IP and the CA's identity", async (t) => {
  const ca = await startCa(t, tempDir(t));
  const serving = new x509.X509Certificate(ca.server.servingChain()[0]!);
  const san = serving.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON();
  assert.deepEqual(san, [
    { type: 'dns', value: 'istiod.istio-system.svc' },
    { type: 'dns', value: 'trellis-ca' },
    { type: 'ip', value: '127.0.0.1' },
    { type: 'url', value: 'spiffe://cluster.local/ns/istio-system/sa/istiod' },
  ]);
  // Rotation keeps serving: a call after rotate() works over the new certificate.
  const before = ca.server.servingChain()[0];
  await ca.server.rotateServingCert();
  assert.notEqual(ca.server.servingChain()[0], before);
  assert.equal((await ca.client('tok-web').createCertificate(await csrFor(WEB))).length, 2);
});

test('requests without a token or with an unknown token are UNAUTHENTICATED', async (t) => {
  const ca = await startCa(t, tempDir(t));
  await rejects(
    ca.client(undefined).createCertificate(await csrFor(WEB)),
    status.UNAUTHENTICATED,
    /not "Bearer <token>"|no authorization/,
  );
  await rejects(
    ca.client('nope').createCertificate(await csrFor(WEB)),
    status.UNAUTHENTICATED,
    /not one of the static tokens/,
  );
});

test('a CSR for another identity is PERMISSION_DENIED', async (t) => {
  const ca = await startCa(t, tempDir(t));
  await rejects(
    ca.client('tok-web').createCertificate(await csrFor('spiffe://cluster.local/ns/prod/sa/api')),
    status.PERMISSION_DENIED,
    /asks for spiffe:\/\/cluster.local\/ns\/prod\/sa\/api, but the caller may only receive spiffe:\/\/cluster.local\/ns\/default\/sa\/web/,
  );
});

test('malformed CSRs are INVALID_ARGUMENT with the reason', async (t) => {
  const ca = await startCa(t, tempDir(t));
  const client = ca.client('tok-web');
  await rejects(client.createCertificate('garbage'), status.INVALID_ARGUMENT, /CSR/);

  // Two URI SANs.
  const keys = await generateKeyPair();
  const { importPrivateKey } = await import('@trellis/pki');
  const k = await importPrivateKey(keys.privateKey);
  const two = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: { privateKey: k.cryptoKey, publicKey: k.publicCryptoKey },
    signingAlgorithm: k.signingAlgorithm,
    extensions: [
      new x509.SubjectAlternativeNameExtension(
        [
          { type: 'url', value: WEB },
          { type: 'url', value: 'spiffe://cluster.local/ns/x/sa/y' },
        ],
        true,
      ),
    ],
  });
  await rejects(
    client.createCertificate(two.toString('pem')),
    status.INVALID_ARGUMENT,
    /exactly one URI SAN, found 2/,
  );

  // A signature that does not verify: flip a byte inside the signature.
  const good = await createCsr({ identity: WEB, privateKey: keys.privateKey });
  const der = Buffer.from(good.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 5]! ^= 0x01;
  const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await rejects(
    client.createCertificate(bad),
    status.INVALID_ARGUMENT,
    /signature does not verify/,
  );
});

test('an RSA key under 2048 bits is refused', async (t) => {
  const ca = await startCa(t, tempDir(t));
  const alg = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 1024,
  };
  const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as Parameters<
    typeof x509.Pkcs10CertificateRequestGenerator.create
  >[0]['keys'];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: WEB }], true)],
  });
  await rejects(
    ca.client('tok-web').createCertificate(csr.toString('pem')),
    status.INVALID_ARGUMENT,
    /RSA key of 1024 bits is too weak/,
  );
});

test('an over-long validity is capped at the maximum; a negative one is INVALID_ARGUMENT', async (t) => {
  const ca = await startCa(t, tempDir(t), { maxTtlMs: 3600_000 });
  const client = ca.client('tok-web');
  const [leaf] = await client.createCertificate(await csrFor(WEB), {
    validitySeconds: 30 * 24 * 3600,
  });
  const hours = (inspectCertificate(leaf!).notAfter.getTime() - Date.now()) / 3600_000;
  assert.ok(hours > 0.9 && hours <= 1, `capped to 1h, got ${hours}h`);
  const [short] = await client.createCertificate(await csrFor(WEB), { validitySeconds: 600 });
  const minutes = (inspectCertificate(short!).notAfter.getTime() - Date.now()) / 60_000;
  assert.ok(minutes > 9 && minutes <= 10, `asked 10 min, got ${minutes}`);
  await rejects(
    client.createCertificate(await csrFor(WEB), { validitySeconds: -5 }),
    status.INVALID_ARGUMENT,
    /must not be negative/,
  );
});

test('impersonation: the trusted ztunnel gets a pod identity on its node, others are denied with the reason', async (t) => {
  const ca = await startCa(t, tempDir(t));
  const ztunnel = ca.client('tok-ztunnel-a');
  const db = 'spiffe://cluster.local/ns/prod/sa/db';
  const chain = await ztunnel.createCertificate(await csrFor(db), { impersonatedIdentity: db });
  assert.deepEqual(inspectCertificate(chain[0]!).subjectAltName?.uris, [db]);

  const api = 'spiffe://cluster.local/ns/prod/sa/api';
  await rejects(
    ztunnel.createCertificate(await csrFor(api), { impersonatedIdentity: api }),
    status.PERMISSION_DENIED,
    /no pod with service account prod\/api runs on node node-a/,
  );
  const ghost = 'spiffe://cluster.local/ns/ghost/sa/nobody';
  await rejects(
    ztunnel.createCertificate(await csrFor(ghost), { impersonatedIdentity: ghost }),
    status.PERMISSION_DENIED,
    /no pod with service account ghost\/nobody/,
  );
  await rejects(
    ca.client('tok-web').createCertificate(await csrFor(db), { impersonatedIdentity: db }),
    status.PERMISSION_DENIED,
    /default\/web may not impersonate .* not a trusted node proxy/,
  );
});
