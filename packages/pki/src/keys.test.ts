import assert from 'node:assert/strict';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  webcrypto,
} from 'node:crypto';
import { describe, it } from 'node:test';
import { exportPrivateKey, generateKeyPair, importPrivateKey } from './keys.js';

describe('generateKeyPair', () => {
  it('makes ECDSA P-256 keys by default, as PKCS#8 and SPKI PEM', async () => {
    const keys = await generateKeyPair();
    assert.equal(keys.algorithm, 'ecdsa-p256');
    assert.match(keys.privateKey, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(keys.publicKey, /^-----BEGIN PUBLIC KEY-----\n/);
    const priv = createPrivateKey(keys.privateKey);
    assert.equal(priv.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    // The two halves belong together.
    const sig = sign('sha256', Buffer.from('hello'), priv);
    assert.ok(verify('sha256', Buffer.from('hello'), createPublicKey(keys.publicKey), sig));
  });

  it('makes P-384 keys on request and rejects unknown algorithms', async () => {
    const keys = await generateKeyPair('ecdsa-p384');
    assert.equal(createPrivateKey(keys.privateKey).asymmetricKeyDetails?.namedCurve, 'secp384r1');
    await assert.rejects(
      generateKeyPair('rsa-2048' as never),
      /unsupported key algorithm "rsa-2048": use 'ecdsa-p256' or 'ecdsa-p384'/,
    );
  });
});

describe('importPrivateKey', () => {
  it('imports PKCS#8 and SEC1 EC keys and derives the public key', async () => {
    const keys = await generateKeyPair('ecdsa-p384');
    const sec1 = createPrivateKey(keys.privateKey).export({
      type: 'sec1',
      format: 'pem',
    }) as string;
    assert.match(sec1, /BEGIN EC PRIVATE KEY/);
    for (const pem of [keys.privateKey, sec1]) {
      const key = await importPrivateKey(pem);
      assert.deepEqual(key.algorithm, { kind: 'ecdsa', curve: 'P-384' });
      assert.equal(key.publicKeyPem, keys.publicKey);
      assert.deepEqual(key.signingAlgorithm, { name: 'ECDSA', hash: 'SHA-384' });
    }
  });

  it('imports PKCS#1 RSA keys (plug-in CAs often have them)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = await importPrivateKey(
      privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
    );
    assert.deepEqual(key.algorithm, { kind: 'rsa', bits: 2048 });
  });

  it('says what is wrong with bad input', async () => {
    await assert.rejects(importPrivateKey('not a key'), /private key: no PEM block found/);
    await assert.rejects(
      importPrivateKey('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      /private key: found a CERTIFICATE PEM block, not a private key/,
    );
    await assert.rejects(
      importPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
      /private key: cannot parse the PEM/,
    );
    const encrypted = createPrivateKey((await generateKeyPair()).privateKey).export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'secret',
    }) as string;
    await assert.rejects(importPrivateKey(encrypted), /private key: the PEM is encrypted/);
    const ed = generateKeyPairSync('ed25519').privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    await assert.rejects(importPrivateKey(ed), /ed25519 keys are not supported; use ECDSA/);
  });
});

describe('exportPrivateKey', () => {
  it('exports a WebCrypto key as PKCS#8 PEM that imports back to the same key', async () => {
    const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const pem = await exportPrivateKey(pair.privateKey);
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
    const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', pair.publicKey));
    assert.deepEqual((await importPrivateKey(pem)).publicKeyDer, spki);
    await assert.rejects(
      exportPrivateKey(pair.publicKey),
      /expected a private key, got a public key/,
    );
  });
});
