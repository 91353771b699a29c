// PKCS#10 certificate signing requests carrying exactly one SPIFFE URI SAN and no subject (as Istio's
// clients send them), and parsing of any CSR for the CA.
import { createPublicKey } from 'node:crypto';
import { describeKey, importPrivateKey, type PublicKeyAlgorithm } from './keys.js';
import { decodePemOf, encodePem } from './pem.js';
import { parseSvidSpiffeId } from './spiffe.js';
import { x509 } from './x509.js';

export interface CreateCsrOptions {
  /** The SPIFFE ID to request, e.g. "spiffe://cluster.local/ns/default/sa/web". */
  readonly identity: string;
  /** The private key PEM (PKCS#8, SEC1 or PKCS#1) whose public half the certificate will carry. */
  readonly privateKey: string;
}

/** What a CA needs to know about a CSR. */
export interface ParsedCsr {
  /** The requested public key, SPKI PEM. */
  readonly publicKey: string;
  readonly keyAlgorithm: PublicKeyAlgorithm;
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** The subject DN as text; '' when empty (Istio leaves it empty). */
  readonly subject: string;
  /** Whether the CSR is signed by the private key matching `publicKey`. */
  readonly signatureValid: boolean;
}

/** Creates a CSR (PEM) with an empty subject and one critical URI SAN holding `identity`. */
export async function createCsr(options: CreateCsrOptions): Promise<string> {
  const id = parseSvidSpiffeId(options.identity);
  const key = await importPrivateKey(options.privateKey);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys: { privateKey: key.cryptoKey, publicKey: key.publicCryptoKey },
    signingAlgorithm: key.signingAlgorithm,
    // RFC 5280 4.2.1.6: with an empty subject the SAN extension is critical.
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: id.uri }], true)],
  });
  return csr.toString('pem') + '\n';
}

/** Parses a PEM CSR. Throws with what is wrong when the text is not exactly one PKCS#10 request. */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  const blocks = decodePemOf(pem, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'], 'CSR');
  if (blocks.length !== 1)
    throw new Error(`CSR: expected one CERTIFICATE REQUEST PEM block, found ${blocks.length}`);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(blocks[0] as Buffer);
  } catch (err) {
    throw new Error(`CSR: not a valid PKCS#10 certificate request (${(err as Error).message})`, {
      cause: err,
    });
  }
  const spki = Buffer.from(csr.publicKey.rawData);
  let keyAlgorithm: PublicKeyAlgorithm;
  try {
    keyAlgorithm = describeKey(createPublicKey({ key: spki, format: 'der', type: 'spki' }));
  } catch {
    keyAlgorithm = { kind: 'other', type: csr.publicKey.algorithm.name };
  }
  const names = [...csr.extensions]
    .filter(
      (e): e is x509.SubjectAlternativeNameExtension =>
        e instanceof x509.SubjectAlternativeNameExtension,
    )
    .flatMap((e) => e.names.items);
  return {
    publicKey: encodePem('PUBLIC KEY', spki),
    keyAlgorithm,
    uriSans: names.filter((n) => n.type === 'url').map((n) => n.value),
    dnsSans: names.filter((n) => n.type === 'dns').map((n) => n.value),
    subject: csr.subject,
    signatureValid: await csr.verify().catch(() => false),
  };
}
