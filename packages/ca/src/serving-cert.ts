// The CA's own TLS certificate: issued by its signing CA, with DNS names, IP addresses and the
// CA's SPIFFE ID as SANs (pki's workload certificates carry only a URI SAN, hence this file).
// Also what tests use for a server certificate with DNS names only (no SPIFFE ID).
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { generateKeyPair, importPrivateKey, x509, type CaCredentials } from '@trellis/pki';

export interface ServingCertOptions {
  readonly issuer: CaCredentials;
  readonly dnsNames: readonly string[];
  readonly ips: readonly string[];
  /** Added as a URI SAN when set. */
  readonly spiffeId?: string;
  readonly ttlMs: number;
  readonly now?: Date;
}

export interface ServingCert {
  readonly key: string;
  /** Leaf first, root last. */
  readonly chain: readonly string[];
  readonly notAfter: Date;
}

export async function issueServingCert(o: ServingCertOptions): Promise<ServingCert> {
  const keys = await generateKeyPair('ecdsa-p256');
  const leafKey = await importPrivateKey(keys.privateKey);
  const signer = await importPrivateKey(o.issuer.key);
  const issuerCert = new x509.X509Certificate(o.issuer.cert);
  const now = (o.now ?? new Date()).getTime();
  const notAfter = new Date(Math.min(now + o.ttlMs, issuerCert.notAfter.getTime()));
  const aki = issuerCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const names: x509.JsonGeneralName[] = [
    ...o.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...o.ips.filter((ip) => isIP(ip)).map((value) => ({ type: 'ip' as const, value })),
    ...(o.spiffeId ? [{ type: 'url' as const, value: o.spiffeId }] : []),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: [{ CN: [o.dnsNames[0] ?? 'trellis-ca'] }],
    issuer: new x509.Name(issuerCert.subjectName.toArrayBuffer()),
    notBefore: new Date(now - 60_000),
    notAfter,
    publicKey: leafKey.publicKeyDer,
    signingKey: signer.cryptoKey,
    signingAlgorithm: signer.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.SubjectKeyIdentifierExtension.create(leafKey.publicCryptoKey),
      ...(aki ? [new x509.AuthorityKeyIdentifierExtension(aki)] : []),
    ],
  });
  const pem = cert.toString('pem') + '\n';
  return {
    key: keys.privateKey,
    chain: [pem, o.issuer.cert.trim() + '\n', ...o.issuer.chain.map((c) => c.trim() + '\n')],
    notAfter,
  };
}
