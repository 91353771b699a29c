// The SPIFFE rules for a workload (leaf) certificate that plain X.509 path validation, including
// Node's OpenSSL, does not enforce: exactly one URI SAN, a valid SPIFFE ID with a path, the trust
// domain of the bundle, and CA:false.
import { certificateName, type CertificateInfo } from './certificate.js';
import { parseSvidSpiffeId, type SpiffeId } from './spiffe.js';

export type IdentityCheck =
  | { readonly ok: true; readonly spiffeId: SpiffeId }
  | { readonly ok: false; readonly reason: string };

/** Checks a leaf certificate's SPIFFE identity; `trustDomain` restricts it when given. */
export function checkLeafIdentity(
  leaf: CertificateInfo,
  trustDomain: string | undefined,
): IdentityCheck {
  const name = certificateName(leaf);
  const uris = leaf.subjectAltName?.uris ?? [];
  if (uris.length === 0)
    return fail(`certificate ${name} has no URI SAN, expected exactly one SPIFFE ID`);
  if (uris.length > 1)
    return fail(`certificate ${name} has ${uris.length} URI SANs, expected exactly one`);
  let spiffeId: SpiffeId;
  try {
    spiffeId = parseSvidSpiffeId(uris[0] as string);
  } catch (err) {
    return fail(`certificate URI SAN: ${(err as Error).message}`);
  }
  if (leaf.basicConstraints?.ca) {
    return fail(
      `certificate ${name} is a CA certificate; a workload certificate must have CA:false`,
    );
  }
  if (trustDomain !== undefined && spiffeId.trustDomain !== trustDomain) {
    return fail(
      `${spiffeId.uri} is in trust domain "${spiffeId.trustDomain}", expected "${trustDomain}"`,
    );
  }
  return { ok: true, spiffeId };
}

function fail(reason: string): IdentityCheck {
  return { ok: false, reason };
}
