// Helpers shared by this package's tests (not exported from index.ts): the openssl CLI, temporary
// directories, and a small PKI with deliberately broken certificates.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import {
  createIntermediateCa,
  createRootCa,
  issueWorkloadCertificate,
  signCertificate,
  type CaCredentials,
} from '../issue.js';
import { generateKeyPair, importPrivateKey } from '../keys.js';
import { x509 } from '../x509.js';

const DAY = 86_400_000;

/** Whether the openssl CLI is on PATH; tests that need it skip (and say so) when it is absent. */
export const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
export const NO_OPENSSL = 'openssl is not on PATH: the openssl cross-check is skipped';

export function openssl(args: string[], cwd?: string): { status: number | null; output: string } {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** A temporary directory removed when the test ends; `files` are written into it. */
export function tempDir(t: TestContext, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-pki-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

export interface Workload {
  readonly key: string;
  readonly cert: string;
  /** Leaf first, root last. */
  readonly chain: readonly string[];
}

/** A workload key and certificate for `identity` issued by `issuer`. */
export async function workload(
  issuer: CaCredentials,
  identity: string,
  options: { ttlMs?: number; now?: Date } = {},
): Promise<Workload> {
  const keys = await generateKeyPair();
  const issued = await issueWorkloadCertificate({
    publicKey: keys.publicKey,
    identity,
    issuer,
    ttlMs: options.ttlMs ?? DAY,
    ...(options.now ? { now: options.now } : {}),
  });
  return { key: keys.privateKey, ...issued };
}

/** A leaf signed by `issuer` with exactly the URI SANs and CA flag given (for rule violations). */
export async function craftedLeaf(
  issuer: CaCredentials,
  uris: string[],
  options: { ca?: boolean } = {},
): Promise<Workload> {
  const keys = await generateKeyPair();
  const signer = await importPrivateKey(issuer.key);
  const issuerCert = new x509.X509Certificate(issuer.cert);
  const now = Date.now();
  const cert = await signCertificate({
    subject: undefined,
    issuerName: issuerCert.subjectName,
    publicKeyDer: (await importPrivateKey(keys.privateKey)).publicKeyDer,
    signer,
    authorityKeyId: Buffer.from(await issuerCert.publicKey.getKeyIdentifier()).toString('hex'),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + DAY),
    extensions: [
      new x509.BasicConstraintsExtension(options.ca ?? false, undefined, true),
      ...(uris.length
        ? [
            new x509.SubjectAlternativeNameExtension(
              uris.map((value) => ({ type: 'url' as const, value })),
              true,
            ),
          ]
        : []),
    ],
  });
  return { key: keys.privateKey, cert, chain: [cert, issuer.cert, ...issuer.chain] };
}

/** A CA certificate signed by `issuer` with the given pathLen and key usages (default keyCertSign). */
export async function craftedCa(
  issuer: CaCredentials,
  commonName: string,
  options: { pathLen?: number; keyUsage?: x509.KeyUsageFlags } = {},
): Promise<CaCredentials> {
  const keys = await generateKeyPair();
  const signer = await importPrivateKey(issuer.key);
  const issuerCert = new x509.X509Certificate(issuer.cert);
  const now = Date.now();
  const cert = await signCertificate({
    subject: [{ CN: [commonName] }],
    issuerName: issuerCert.subjectName,
    publicKeyDer: (await importPrivateKey(keys.privateKey)).publicKeyDer,
    signer,
    authorityKeyId: Buffer.from(await issuerCert.publicKey.getKeyIdentifier()).toString('hex'),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * DAY),
    extensions: [
      new x509.BasicConstraintsExtension(true, options.pathLen, true),
      new x509.KeyUsagesExtension(options.keyUsage ?? x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  return { cert, key: keys.privateKey, chain: [issuer.cert, ...issuer.chain] };
}

/** Root -> intermediate (pathLen 0) for trust domain cluster.local. */
export async function meshPki(
  options: { now?: Date } = {},
): Promise<{ root: CaCredentials; intermediate: CaCredentials }> {
  const now = options.now ? { now: options.now } : {};
  const root = await createRootCa({
    commonName: 'Trellis Root CA',
    org: 'cluster.local',
    ttlMs: 365 * DAY,
    ...now,
  });
  const intermediate = await createIntermediateCa({
    issuer: root,
    commonName: 'Trellis Intermediate CA',
    ttlMs: 30 * DAY,
    ...now,
  });
  return { root, intermediate };
}

export { DAY };
