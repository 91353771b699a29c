// Reading X.509 certificates: PEM/DER in, a plain typed description out.
import { X509Certificate as NodeX509Certificate, createPublicKey } from 'node:crypto';
import { describeKey, type PublicKeyAlgorithm } from './keys.js';
import { decodePemOf, encodePem } from './pem.js';
import { x509 } from './x509.js';

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** The fields of a certificate this package cares about. Extensions are undefined when absent. */
export interface CertificateInfo {
  readonly pem: string;
  readonly der: Buffer;
  /** Distinguished names as text ("CN=root, O=example"); '' when empty. */
  readonly subject: string;
  readonly issuer: string;
  /** Serial number, lowercase hex. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKeyAlgorithm;
  readonly basicConstraints?: {
    readonly ca: boolean;
    readonly pathLength?: number;
    readonly critical: boolean;
  };
  readonly keyUsage?: { readonly usages: readonly KeyUsageName[]; readonly critical: boolean };
  /** Extended key usages by name ('serverAuth', 'clientAuth', ...) or OID when unnamed. */
  readonly extendedKeyUsage?: { readonly usages: readonly string[]; readonly critical: boolean };
  readonly subjectAltName?: {
    readonly uris: readonly string[];
    readonly dnsNames: readonly string[];
    readonly critical: boolean;
  };
  /** Key identifiers, lowercase hex. */
  readonly subjectKeyId?: string;
  readonly authorityKeyId?: string;
}

/** A parsed certificate: its description plus Node's object, used to check signatures. */
export interface ParsedCertificate {
  readonly info: CertificateInfo;
  readonly node: NodeX509Certificate;
}

const KEY_USAGE_BITS: ReadonlyArray<[KeyUsageName, number]> = [
  ['digitalSignature', x509.KeyUsageFlags.digitalSignature],
  ['nonRepudiation', x509.KeyUsageFlags.nonRepudiation],
  ['keyEncipherment', x509.KeyUsageFlags.keyEncipherment],
  ['dataEncipherment', x509.KeyUsageFlags.dataEncipherment],
  ['keyAgreement', x509.KeyUsageFlags.keyAgreement],
  ['keyCertSign', x509.KeyUsageFlags.keyCertSign],
  ['cRLSign', x509.KeyUsageFlags.cRLSign],
  ['encipherOnly', x509.KeyUsageFlags.encipherOnly],
  ['decipherOnly', x509.KeyUsageFlags.decipherOnly],
];

const EKU_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(x509.ExtendedKeyUsage).map(([name, oid]) => [oid, name]),
);

/** Describes one certificate given as PEM (the first block must be it) or DER. */
export function inspectCertificate(input: string | Uint8Array): CertificateInfo {
  return parseCertificate(input).info;
}

/** Parses every certificate in a (multi-certificate) PEM text. `what` names the input in errors. */
export function parseCertificates(pem: string, what: string): ParsedCertificate[] {
  return decodePemOf(pem, ['CERTIFICATE'], what).map((der, i, all) =>
    parseCertificate(der, all.length > 1 ? `${what}: certificate #${i + 1}` : what),
  );
}

/** Parses one certificate from PEM (exactly one block) or DER. */
export function parseCertificate(
  input: string | Uint8Array,
  what = 'certificate',
): ParsedCertificate {
  let der: Buffer;
  if (typeof input === 'string') {
    const blocks = decodePemOf(input, ['CERTIFICATE'], what);
    if (blocks.length !== 1)
      throw new Error(`${what}: expected one certificate, found ${blocks.length}`);
    der = blocks[0] as Buffer;
  } else {
    der = Buffer.from(input);
  }
  let cert: x509.X509Certificate;
  let node: NodeX509Certificate;
  try {
    cert = new x509.X509Certificate(der);
    node = new NodeX509Certificate(der);
  } catch (err) {
    throw new Error(`${what}: not a valid X.509 certificate (${(err as Error).message})`, {
      cause: err,
    });
  }
  return { info: describe(cert, der), node };
}

/** A short name for a certificate in messages: its subject, else its URI SAN, else its serial. */
export function certificateName(info: CertificateInfo): string {
  if (info.subject) return JSON.stringify(info.subject);
  const uris = info.subjectAltName?.uris ?? [];
  if (uris.length > 0) return JSON.stringify(uris.join(', '));
  return `with serial ${info.serialNumber}`;
}

function describe(cert: x509.X509Certificate, der: Buffer): CertificateInfo {
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  const names = [...(san?.names.items ?? [])];
  const spki = Buffer.from(cert.publicKey.rawData);
  return {
    pem: encodePem('CERTIFICATE', der),
    der,
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    publicKey: describeKey(createPublicKey({ key: spki, format: 'der', type: 'spki' })),
    basicConstraints: bc
      ? {
          ca: bc.ca,
          critical: bc.critical,
          ...(bc.pathLength !== undefined ? { pathLength: bc.pathLength } : {}),
        }
      : undefined,
    keyUsage: ku
      ? {
          usages: KEY_USAGE_BITS.filter(([, bit]) => (ku.usages & bit) !== 0).map(([n]) => n),
          critical: ku.critical,
        }
      : undefined,
    extendedKeyUsage: eku
      ? {
          usages: Array.from(eku.usages, (u) => EKU_NAMES[String(u)] ?? String(u)),
          critical: eku.critical,
        }
      : undefined,
    subjectAltName: san
      ? {
          uris: names.filter((n) => n.type === 'url').map((n) => n.value),
          dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
          critical: san.critical,
        }
      : undefined,
    subjectKeyId: ski?.keyId.toLowerCase(),
    authorityKeyId: aki?.keyId?.toLowerCase(),
  };
}
