// Issuing certificates: self-signed roots, intermediate CAs and SPIFFE workload leaves.
// The CA service builds on these; all inputs and outputs are PEM strings.
import { createPublicKey, randomBytes } from 'node:crypto';
import { certificateName, parseCertificate, type CertificateInfo } from './certificate.js';
import { generateKeyPair, importPrivateKey, type KeyAlgorithm, type SigningKey } from './keys.js';
import { decodePemOf } from './pem.js';
import { parseSvidSpiffeId } from './spiffe.js';
import { x509 } from './x509.js';

/** A CA able to sign: its certificate, private key, and the certificates above it. */
export interface CaCredentials {
  /** The CA certificate, PEM. */
  readonly cert: string;
  /** Its private key, PEM (PKCS#8; SEC1 and PKCS#1 are accepted as input). */
  readonly key: string;
  /** The certificates above `cert`, nearest first, ending with the root; [] when `cert` is the root. */
  readonly chain: readonly string[];
}

export interface CreateRootCaOptions {
  readonly commonName: string;
  readonly org?: string;
  readonly ttlMs: number;
  /** Default 'ecdsa-p256'. */
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Maximum number of intermediate CAs below this one; unlimited when absent. */
  readonly pathLen?: number;
  /** Issue "as of" this time (default: the current time). */
  readonly now?: Date;
  /** How far notBefore lies before `now`, to tolerate clock skew. Default 60 000 (one minute). */
  readonly backdateMs?: number;
}

export interface CreateIntermediateCaOptions extends CreateRootCaOptions {
  readonly issuer: CaCredentials;
  /** Maximum number of intermediate CAs below this one. Default 0: it signs workload certificates only. */
  readonly pathLen?: number;
}

export interface IssueWorkloadCertificateOptions {
  /** The workload's public key, SPKI PEM (e.g. ParsedCsr.publicKey). */
  readonly publicKey: string;
  /** The SPIFFE ID to certify, e.g. "spiffe://cluster.local/ns/default/sa/web". */
  readonly identity: string;
  readonly issuer: CaCredentials;
  /** Requested lifetime; the certificate never outlives its issuer. */
  readonly ttlMs: number;
  /** How far notBefore lies before `now`, to tolerate clock skew. Default 60 000 (one minute). */
  readonly backdateMs?: number;
  readonly now?: Date;
}

export interface IssuedCertificate {
  /** The leaf certificate, PEM. */
  readonly cert: string;
  /** Leaf first, then the issuer and the certificates above it, root last (Istio's cert_chain). */
  readonly chain: readonly string[];
}

const DEFAULT_BACKDATE_MS = 60_000;

/** Creates a self-signed root CA with a fresh key pair. */
export async function createRootCa(options: CreateRootCaOptions): Promise<CaCredentials> {
  const { notBefore, notAfter } = validity(options, undefined);
  const keys = await generateKeyPair(options.keyAlgorithm ?? 'ecdsa-p256');
  const key = await importPrivateKey(keys.privateKey);
  const name = caName(options);
  const cert = await signCertificate({
    subject: name,
    issuerName: name,
    publicKeyDer: key.publicKeyDer,
    signer: key,
    authorityKeyId: await keyId(key.publicKeyDer),
    notBefore,
    notAfter,
    extensions: caExtensions(options.pathLen),
  });
  return { cert, key: keys.privateKey, chain: [] };
}

/** Creates an intermediate CA signed by `issuer`, with a fresh key pair and pathLen (default 0). */
export async function createIntermediateCa(
  options: CreateIntermediateCaOptions,
): Promise<CaCredentials> {
  const issuer = await loadIssuer(options.issuer);
  if (issuer.info.basicConstraints?.pathLength === 0) {
    throw new Error(
      `issuer ${certificateName(issuer.info)} has pathLen 0 and cannot sign CA certificates`,
    );
  }
  const { notBefore, notAfter } = validity(options, issuer.info);
  const keys = await generateKeyPair(options.keyAlgorithm ?? 'ecdsa-p256');
  const publicKeyDer = createPublicKey(keys.publicKey).export({ type: 'spki', format: 'der' });
  const cert = await signCertificate({
    subject: caName(options),
    issuerName: issuer.subjectName,
    publicKeyDer,
    signer: issuer.key,
    authorityKeyId: issuer.keyId,
    notBefore,
    notAfter,
    extensions: caExtensions(options.pathLen ?? 0),
  });
  return {
    cert,
    key: keys.privateKey,
    chain: [normalize(options.issuer.cert), ...options.issuer.chain.map(normalize)],
  };
}

/**
 * Issues a SPIFFE workload certificate: empty subject, critical URI SAN, critical keyUsage
 * digitalSignature + keyEncipherment, EKU serverAuth + clientAuth, CA:false, AKI/SKI, random serial.
 */
export async function issueWorkloadCertificate(
  options: IssueWorkloadCertificateOptions,
): Promise<IssuedCertificate> {
  const id = parseSvidSpiffeId(options.identity);
  const publicKeyDer = readPublicKey(options.publicKey);
  const issuer = await loadIssuer(options.issuer);
  const { notBefore, notAfter } = validity(options, issuer.info);
  const cert = await signCertificate({
    subject: undefined,
    issuerName: issuer.subjectName,
    publicKeyDer,
    signer: issuer.key,
    authorityKeyId: issuer.keyId,
    notBefore,
    notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(
        [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: id.uri }], true),
    ],
  });
  return {
    cert,
    chain: [cert, normalize(options.issuer.cert), ...options.issuer.chain.map(normalize)],
  };
}

export interface SignCertificateParams {
  /** Subject name; undefined for an empty subject. */
  readonly subject: x509.JsonName | x509.Name | undefined;
  readonly issuerName: x509.JsonName | x509.Name;
  readonly publicKeyDer: Uint8Array;
  readonly signer: SigningKey;
  /** Hex key identifier of the signer (written as the AKI). */
  readonly authorityKeyId: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Extensions besides SKI and AKI, which are always added. */
  readonly extensions: readonly x509.Extension[];
}

/** The signing primitive behind the functions above: builds, signs and PEM-encodes one certificate. */
export async function signCertificate(p: SignCertificateParams): Promise<string> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    ...(p.subject ? { subject: p.subject } : {}),
    issuer: p.issuerName,
    notBefore: p.notBefore,
    notAfter: p.notAfter,
    publicKey: p.publicKeyDer,
    signingKey: p.signer.cryptoKey,
    signingAlgorithm: p.signer.signingAlgorithm,
    extensions: [
      ...p.extensions,
      new x509.SubjectKeyIdentifierExtension(await keyId(p.publicKeyDer)),
      new x509.AuthorityKeyIdentifierExtension(p.authorityKeyId),
    ],
  });
  return cert.toString('pem') + '\n';
}

interface LoadedIssuer {
  readonly info: CertificateInfo;
  readonly subjectName: x509.Name;
  readonly key: SigningKey;
  readonly keyId: string;
}

// Loading an issuer (parse, checks, key import) costs more than signing one leaf, and a CA signs
// with the same credentials object many times: keep the loaded form per object (they are readonly).
const loadedIssuers = new WeakMap<CaCredentials, Promise<LoadedIssuer>>();

function loadIssuer(ca: CaCredentials): Promise<LoadedIssuer> {
  let loaded = loadedIssuers.get(ca);
  if (!loaded) {
    loaded = checkAndLoadIssuer(ca);
    loadedIssuers.set(ca, loaded);
    loaded.catch(() => loadedIssuers.delete(ca));
  }
  return loaded;
}

/** Checks that `ca` can sign (a CA, keyCertSign, key matches) and loads its key. */
async function checkAndLoadIssuer(ca: CaCredentials): Promise<LoadedIssuer> {
  const { info, node } = parseCertificate(ca.cert, 'issuer certificate');
  const name = certificateName(info);
  if (!info.basicConstraints?.ca)
    throw new Error(`issuer ${name} is not a CA (basicConstraints CA:true is missing)`);
  if (info.keyUsage && !info.keyUsage.usages.includes('keyCertSign')) {
    throw new Error(`issuer ${name} lacks the keyCertSign key usage`);
  }
  const key = await importPrivateKey(ca.key);
  if (
    !node.publicKey.equals(createPublicKey({ key: key.publicKeyDer, format: 'der', type: 'spki' }))
  ) {
    throw new Error(`issuer key does not match the public key of issuer certificate ${name}`);
  }
  const cert = new x509.X509Certificate(info.der);
  return {
    info,
    subjectName: new x509.Name(cert.subjectName.toArrayBuffer()),
    key,
    keyId: info.subjectKeyId ?? (await keyId(key.publicKeyDer)),
  };
}

function validity(
  o: { ttlMs: number; now?: Date; backdateMs?: number },
  issuer: CertificateInfo | undefined,
): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(o.ttlMs) || o.ttlMs <= 0)
    throw new Error(`ttlMs must be a positive number of milliseconds, got ${o.ttlMs}`);
  const backdate = o.backdateMs ?? DEFAULT_BACKDATE_MS;
  if (!Number.isFinite(backdate) || backdate < 0)
    throw new Error(`backdateMs must be zero or more, got ${backdate}`);
  const now = (o.now ?? new Date()).getTime();
  if (issuer && issuer.notAfter.getTime() <= now) {
    throw new Error(
      `issuer ${certificateName(issuer)} expired at ${issuer.notAfter.toISOString()}`,
    );
  }
  const notAfter = Math.min(now + o.ttlMs, issuer ? issuer.notAfter.getTime() : Infinity);
  return { notBefore: new Date(now - backdate), notAfter: new Date(notAfter) };
}

function caName(o: CreateRootCaOptions): x509.JsonName {
  if (typeof o.commonName !== 'string' || o.commonName === '')
    throw new Error('commonName must be a non-empty string');
  return [...(o.org ? [{ O: [o.org] }] : []), { CN: [o.commonName] }];
}

function caExtensions(pathLen: number | undefined): x509.Extension[] {
  if (pathLen !== undefined && (!Number.isInteger(pathLen) || pathLen < 0)) {
    throw new Error(`pathLen must be a non-negative integer, got ${pathLen}`);
  }
  return [
    new x509.BasicConstraintsExtension(true, pathLen, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.keyCertSign |
        x509.KeyUsageFlags.cRLSign |
        x509.KeyUsageFlags.digitalSignature,
      true,
    ),
  ];
}

function readPublicKey(pem: string): Buffer {
  const blocks = decodePemOf(pem, ['PUBLIC KEY'], 'public key');
  if (blocks.length !== 1)
    throw new Error(`public key: expected one PUBLIC KEY PEM block, found ${blocks.length}`);
  try {
    return createPublicKey({ key: blocks[0] as Buffer, format: 'der', type: 'spki' }).export({
      type: 'spki',
      format: 'der',
    });
  } catch (err) {
    throw new Error(`public key: not a valid SPKI public key (${(err as Error).message})`, {
      cause: err,
    });
  }
}

/** RFC 5280 key identifier (SHA-1 of the subjectPublicKey bits), hex. */
async function keyId(spkiDer: Uint8Array): Promise<string> {
  return Buffer.from(await new x509.PublicKey(spkiDer).getKeyIdentifier()).toString('hex');
}

/** 128 random bits, positive and with a non-zero leading byte (minimal DER INTEGER). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function normalize(pem: string): string {
  return pem.trim() + '\n';
}
