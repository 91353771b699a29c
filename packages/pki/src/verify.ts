// Chain verification: leaf -> intermediates -> a root of the trust bundle, checking signatures,
// validity windows, CA constraints and path lengths, then the leaf's SPIFFE identity.
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import type { TrustBundle } from './bundle.js';
import {
  certificateName,
  parseCertificate,
  parseCertificates,
  type ParsedCertificate,
} from './certificate.js';
import { checkLeafIdentity } from './leaf-identity.js';
import type { SpiffeId } from './spiffe.js';

export interface VerifyChainOptions {
  /** The leaf certificate, PEM. */
  readonly leaf: string;
  /** Certificates that may link the leaf to a root, PEM (each entry may hold several). Extra or
   * root certificates are fine, so Istio's cert_chain can be passed as { leaf: c[0], intermediates: c.slice(1) }. */
  readonly intermediates?: readonly string[];
  readonly trustBundle: TrustBundle;
  /** Verify as of this time (default: now). */
  readonly now?: Date;
}

export type VerifyChainResult =
  | { readonly ok: true; readonly spiffeId: SpiffeId }
  | { readonly ok: false; readonly reason: string };

/** Verifies a workload certificate chain against a trust bundle. Never throws for bad input. */
export function verifyChain(options: VerifyChainOptions): VerifyChainResult {
  let leaf: ParsedCertificate;
  let intermediates: ParsedCertificate[];
  try {
    leaf = parseCertificate(options.leaf, 'leaf certificate');
    intermediates = (options.intermediates ?? []).flatMap((pem, i) =>
      parseCertificates(pem, `intermediate #${i + 1}`),
    );
  } catch (err) {
    return fail((err as Error).message);
  }
  const roots = options.trustBundle.roots.map((info) => ({
    info,
    node: new NodeX509Certificate(info.der),
  }));
  const pathProblem = checkPath(leaf, intermediates, roots, options.now ?? new Date());
  if (pathProblem) return fail(pathProblem);
  return checkLeafIdentity(leaf.info, options.trustBundle.trustDomain);
}

/** Walks from the leaf up to a trusted root; returns what is wrong, or undefined. */
function checkPath(
  leaf: ParsedCertificate,
  intermediates: ParsedCertificate[],
  roots: ParsedCertificate[],
  now: Date,
): string | undefined {
  const unused = new Set(intermediates);
  let current = leaf;
  for (let casBelow = 0; ; casBelow++) {
    const expiry = validityProblem(current, now);
    if (expiry) return expiry;
    if (current !== leaf && roots.some((r) => r.info.der.equals(current.info.der)))
      return undefined;

    const root = findIssuer(current, roots);
    const intermediate = root.issuer ? {} : findIssuer(current, [...unused]);
    const issuer = root.issuer ?? intermediate.issuer;
    if (!issuer) return noIssuerProblem(current, root.nameMatch ?? intermediate.nameMatch);
    const issuerProblem =
      checkIssuer(issuer, casBelow) ?? (root.issuer ? validityProblem(issuer, now) : undefined);
    if (issuerProblem || root.issuer) return issuerProblem;
    unused.delete(issuer);
    current = issuer;
  }
}

function findIssuer(
  child: ParsedCertificate,
  candidates: ParsedCertificate[],
): { issuer?: ParsedCertificate; nameMatch?: ParsedCertificate } {
  const named = candidates.filter((c) => c.info.subject === child.info.issuer);
  const keyIdFits = (c: ParsedCertificate) =>
    !child.info.authorityKeyId ||
    !c.info.subjectKeyId ||
    child.info.authorityKeyId === c.info.subjectKeyId;
  const issuer = named.find((c) => keyIdFits(c) && child.node.verify(c.node.publicKey));
  return issuer ? { issuer } : { nameMatch: named[0] };
}

function noIssuerProblem(
  cert: ParsedCertificate,
  nameMatch: ParsedCertificate | undefined,
): string {
  const name = certificateName(cert.info);
  if (cert.info.subject === cert.info.issuer && cert.node.verify(cert.node.publicKey)) {
    return `no trusted root for ${name}: it is a self-signed certificate that is not in the trust bundle`;
  }
  if (nameMatch) {
    return `no trusted root for certificate ${name}: it names ${certificateName(nameMatch.info)} as its issuer but is not signed by that certificate's key`;
  }
  return `no trusted root for certificate ${name}: its issuer "${cert.info.issuer}" is neither in the trust bundle nor among the intermediates`;
}

function checkIssuer(issuer: ParsedCertificate, casBelow: number): string | undefined {
  const { info } = issuer;
  const name = certificateName(info);
  if (!info.basicConstraints)
    return `issuer ${name} is not a CA (it has no basicConstraints extension)`;
  if (!info.basicConstraints.ca) return `issuer ${name} is not a CA (basicConstraints CA:false)`;
  if (info.keyUsage && !info.keyUsage.usages.includes('keyCertSign')) {
    return `issuer ${name} may not sign certificates (keyUsage lacks keyCertSign)`;
  }
  const pathLength = info.basicConstraints.pathLength;
  if (pathLength !== undefined && casBelow > pathLength) {
    return `issuer ${name} allows ${pathLength} intermediate CA(s) below it (pathLen ${pathLength}) but the chain has ${casBelow}`;
  }
  return undefined;
}

function validityProblem({ info }: ParsedCertificate, now: Date): string | undefined {
  if (now.getTime() > info.notAfter.getTime()) {
    return `certificate ${certificateName(info)} expired at ${info.notAfter.toISOString()}`;
  }
  if (now.getTime() < info.notBefore.getTime()) {
    return `certificate ${certificateName(info)} is not yet valid: valid from ${info.notBefore.toISOString()}`;
  }
  return undefined;
}

function fail(reason: string): VerifyChainResult {
  return { ok: false, reason };
}
