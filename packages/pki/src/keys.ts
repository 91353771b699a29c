// Key pairs: generation (ECDSA P-256 by default, or P-384), PEM import for signing, PKCS#8 export.
// Keys cross this package's API as PEM strings: PKCS#8 for private keys, SPKI for public keys.
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair as nodeGenerateKeyPair,
  KeyObject,
  webcrypto,
} from 'node:crypto';
import { promisify } from 'node:util';
import { encodePem } from './pem.js';

/** The algorithms this package generates keys for. */
export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384';

/** What kind of key a certificate, CSR or PEM holds. */
export type PublicKeyAlgorithm =
  | { readonly kind: 'ecdsa'; readonly curve: string }
  | { readonly kind: 'rsa'; readonly bits: number }
  | { readonly kind: 'other'; readonly type: string };

/** A generated key pair as PEM: PKCS#8 private key, SPKI public key. */
export interface KeyPair {
  readonly algorithm: KeyAlgorithm;
  readonly privateKey: string;
  readonly publicKey: string;
}

/** A private key imported for signing with WebCrypto, with its public half. */
export interface SigningKey {
  readonly algorithm: PublicKeyAlgorithm;
  readonly cryptoKey: webcrypto.CryptoKey;
  readonly publicCryptoKey: webcrypto.CryptoKey;
  /** The WebCrypto parameters to sign with (hash chosen to match the key size). */
  readonly signingAlgorithm: webcrypto.EcdsaParams | webcrypto.Algorithm;
  readonly publicKeyDer: Buffer;
  readonly publicKeyPem: string;
}

const CURVES: Record<KeyAlgorithm, string> = { 'ecdsa-p256': 'P-256', 'ecdsa-p384': 'P-384' };
const CURVE_NAMES: Record<string, string> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};
const CURVE_HASH: Record<string, string> = {
  'P-256': 'SHA-256',
  'P-384': 'SHA-384',
  'P-521': 'SHA-512',
};

const generate = promisify(nodeGenerateKeyPair);

/** Generates an ECDSA key pair on P-256 (default) or P-384. */
export async function generateKeyPair(algorithm: KeyAlgorithm = 'ecdsa-p256'): Promise<KeyPair> {
  const namedCurve = CURVES[algorithm];
  if (!namedCurve) {
    throw new Error(
      `unsupported key algorithm ${JSON.stringify(algorithm)}: use 'ecdsa-p256' or 'ecdsa-p384'`,
    );
  }
  const { privateKey, publicKey } = await generate('ec', {
    namedCurve,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { algorithm, privateKey, publicKey };
}

/** Describes a Node key object: ECDSA curve, RSA size, or the key type. */
export function describeKey(key: KeyObject): PublicKeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve ?? 'unknown';
    return { kind: 'ecdsa', curve: CURVE_NAMES[curve] ?? curve };
  }
  if (key.asymmetricKeyType === 'rsa') return { kind: 'rsa', bits: details.modulusLength ?? 0 };
  return { kind: 'other', type: key.asymmetricKeyType ?? 'unknown' };
}

/** A short human name for a key algorithm: "ECDSA P-256", "RSA 2048". */
export function keyAlgorithmName(algorithm: PublicKeyAlgorithm): string {
  if (algorithm.kind === 'ecdsa') return `ECDSA ${algorithm.curve}`;
  if (algorithm.kind === 'rsa') return `RSA ${algorithm.bits}`;
  return algorithm.type;
}

/** Reads a private key PEM (PKCS#8, SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY") for signing. */
export async function importPrivateKey(pem: string): Promise<SigningKey> {
  const keyObject = readPrivateKey(pem);
  const algorithm = describeKey(keyObject);
  let importParams: webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  let signingAlgorithm: webcrypto.EcdsaParams | webcrypto.Algorithm;
  if (algorithm.kind === 'ecdsa' && CURVE_HASH[algorithm.curve]) {
    importParams = { name: 'ECDSA', namedCurve: algorithm.curve };
    signingAlgorithm = { name: 'ECDSA', hash: CURVE_HASH[algorithm.curve] as string };
  } else if (algorithm.kind === 'rsa') {
    importParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    signingAlgorithm = { name: 'RSASSA-PKCS1-v1_5' };
  } else {
    throw new Error(
      `private key: ${keyAlgorithmName(algorithm)} keys are not supported; use ECDSA (P-256, P-384) or RSA`,
    );
  }
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  const cryptoKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, importParams, false, ['sign']);
  const publicKeyDer = createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
  const publicCryptoKey = await webcrypto.subtle.importKey(
    'spki',
    publicKeyDer,
    importParams,
    true,
    ['verify'],
  );
  return {
    algorithm,
    cryptoKey,
    publicCryptoKey,
    signingAlgorithm,
    publicKeyDer,
    publicKeyPem: encodePem('PUBLIC KEY', publicKeyDer),
  };
}

/** Exports an extractable WebCrypto private key as a PKCS#8 PEM. */
export async function exportPrivateKey(key: webcrypto.CryptoKey): Promise<string> {
  if (key.type !== 'private')
    throw new Error(`exportPrivateKey: expected a private key, got a ${key.type} key`);
  if (!key.extractable) throw new Error('exportPrivateKey: the key was created non-extractable');
  return encodePem('PRIVATE KEY', new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', key)));
}

/** Parses a private key PEM into a Node key object, with an error that says what is wrong. */
export function readPrivateKey(pem: string): KeyObject {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN ')) {
    throw new Error('private key: no PEM block found (expected "-----BEGIN PRIVATE KEY-----")');
  }
  if (
    /-----BEGIN (CERTIFICATE|CERTIFICATE REQUEST|PUBLIC KEY)-----/.test(pem) &&
    !/PRIVATE KEY-----/.test(pem)
  ) {
    throw new Error(
      `private key: found a ${/-----BEGIN ([A-Z ]+)-----/.exec(pem)?.[1]} PEM block, not a private key`,
    );
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new Error('private key: the PEM is encrypted; provide an unencrypted key');
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MISSING_PASSPHRASE')
      throw new Error('private key: the PEM is encrypted; provide an unencrypted key', {
        cause: err,
      });
    throw new Error(`private key: cannot parse the PEM (${(err as Error).message})`, {
      cause: err,
    });
  }
}
