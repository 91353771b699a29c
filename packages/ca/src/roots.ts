// The CA's signing credentials: loaded from a plug-in CA store (validated), or a self-signed root
// created once and persisted so that a restart keeps the same root.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { createRootCa, type CaCredentials } from '@trellis/pki';
import { CA_FILES, type CaFiles, type CaStore } from './ca-files.js';

export interface CaMaterial {
  /** Signs workload certificates: the CA certificate, its key and the chain above it (root last). */
  readonly issuer: CaCredentials;
  /** The root certificate, PEM: what workloads trust. */
  readonly rootPem: string;
  /** Whether this run created the root (self-signed) or loaded existing files. */
  readonly created: boolean;
}

const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Loads the CA from `store`, or creates a self-signed root (ECDSA P-256, 10 years) and saves it. */
export async function loadOrCreateCa(
  store: CaStore,
  options: { trustDomain: string; create?: boolean },
): Promise<CaMaterial> {
  const files = await store.load();
  const present = CA_FILES.filter((f) => files[f] !== undefined);
  if (present.length === 0) {
    if (options.create === false) throw new Error(`no CA files in ${store.location}`);
    const root = await createRootCa({
      commonName: 'Trellis root CA',
      org: options.trustDomain,
      ttlMs: TEN_YEARS_MS,
    });
    const saved: CaFiles = {
      'ca-cert.pem': root.cert,
      'ca-key.pem': root.key,
      'root-cert.pem': root.cert,
      'cert-chain.pem': root.cert,
    };
    try {
      await store.save(saved);
    } catch (err) {
      // Another replica may have created it first (the Secret already exists): use theirs.
      const theirs = await store.load();
      if (CA_FILES.every((f) => theirs[f] !== undefined))
        return { ...caFromFiles(theirs as CaFiles, store.location), created: false };
      throw new Error(`cannot save the new CA to ${store.location}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    return { ...caFromFiles(saved, store.location), created: true };
  }
  const missing = CA_FILES.filter((f) => files[f] === undefined);
  if (missing.length) {
    throw new Error(
      `${store.location} has ${present.join(', ')} but lacks ${missing.join(', ')}; a CA needs all of ${CA_FILES.join(', ')}`,
    );
  }
  return { ...caFromFiles(files as CaFiles, store.location), created: false };
}

/** Validates a complete set of CA files and returns the signing credentials (throws saying what is wrong). */
export function caFromFiles(files: CaFiles, location: string): Omit<CaMaterial, 'created'> {
  const at = (f: string) => `${location}: ${f}`;
  const caCert = onlyCert(files['ca-cert.pem'], at('ca-cert.pem'));
  const root = onlyCert(files['root-cert.pem'], at('root-cert.pem'));
  let key;
  try {
    key = createPrivateKey(files['ca-key.pem']);
  } catch (err) {
    throw new Error(
      `${at('ca-key.pem')} is not a readable private key (${(err as Error).message})`,
      { cause: err },
    );
  }
  if (!createPublicKey(key).equals(caCert.x509.publicKey)) {
    throw new Error(
      `${at('ca-key.pem')} does not match the public key of ca-cert.pem (${caCert.x509.subject})`,
    );
  }
  if (!caCert.x509.ca)
    throw new Error(
      `${at('ca-cert.pem')} is not a CA certificate (basicConstraints CA:true missing)`,
    );
  if (
    !root.x509.ca ||
    !root.x509.checkIssued(root.x509) ||
    !root.x509.verify(root.x509.publicKey)
  ) {
    throw new Error(`${at('root-cert.pem')} is not a self-signed CA certificate`);
  }
  // The chain above ca-cert: cert-chain.pem without ca-cert itself, ending with the root.
  const listed = certs(files['cert-chain.pem'], at('cert-chain.pem')).filter(
    (c) => c.x509.fingerprint256 !== caCert.x509.fingerprint256,
  );
  const above =
    listed.length && listed[listed.length - 1]!.x509.fingerprint256 === root.x509.fingerprint256
      ? listed
      : [...listed, root];
  const isRoot = caCert.x509.fingerprint256 === root.x509.fingerprint256;
  const path = isRoot ? [caCert] : [caCert, ...above];
  for (let i = 0; i + 1 < path.length; i++) {
    const child = path[i]!.x509;
    const parent = path[i + 1]!.x509;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
      throw new Error(
        `${location}: ca-cert.pem does not chain to root-cert.pem: "${child.subject}" is not signed by "${parent.subject}" (check cert-chain.pem)`,
      );
    }
  }
  return {
    issuer: {
      cert: caCert.pem,
      key: files['ca-key.pem'],
      chain: isRoot ? [] : above.map((c) => c.pem),
    },
    rootPem: root.pem,
  };
}

interface Cert {
  readonly pem: string;
  readonly x509: X509Certificate;
}

function certs(text: string, what: string): Cert[] {
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new Error(`${what} holds no PEM certificate`);
  return blocks.map((pem, i) => {
    try {
      return { pem: pem + '\n', x509: new X509Certificate(pem) };
    } catch (err) {
      throw new Error(`${what}: certificate #${i + 1} does not parse (${(err as Error).message})`, {
        cause: err,
      });
    }
  });
}

function onlyCert(text: string, what: string): Cert {
  const all = certs(text, what);
  if (all.length !== 1)
    throw new Error(`${what} must hold exactly one certificate, found ${all.length}`);
  return all[0]!;
}
