// What the CA accepts in a CSR and for how long it signs. Pure functions over a parsed CSR.
import type { ParsedCsr } from '@trellis/pki';

/** What is wrong with a CSR: malformed ('invalid') or asking for an identity the caller may not hold ('identity'). */
export interface CsrProblem {
  readonly kind: 'invalid' | 'identity';
  readonly reason: string;
}

/** Why `csr` may not be signed for `identity`, or undefined when it may. */
export function csrProblem(csr: ParsedCsr, identity: string): CsrProblem | undefined {
  const invalid = (reason: string): CsrProblem => ({ kind: 'invalid', reason });
  if (!csr.signatureValid) return invalid('CSR signature does not verify with its public key');
  const key = keyProblem(csr.keyAlgorithm);
  if (key) return invalid(key);
  if (csr.uriSans.length !== 1) {
    return invalid(
      `CSR must carry exactly one URI SAN, found ${csr.uriSans.length}${csr.uriSans.length ? ` (${csr.uriSans.join(', ')})` : ''}`,
    );
  }
  if (csr.uriSans[0] !== identity)
    return {
      kind: 'identity',
      reason: `CSR asks for ${csr.uriSans[0]}, but the caller may only receive ${identity}`,
    };
  return undefined;
}

function keyProblem(alg: ParsedCsr['keyAlgorithm']): string | undefined {
  switch (alg.kind) {
    case 'ecdsa':
      return alg.curve === 'P-256' || alg.curve === 'P-384'
        ? undefined
        : `ECDSA curve ${alg.curve} is not allowed (use P-256 or P-384)`;
    case 'rsa':
      return alg.bits >= 2048
        ? undefined
        : `RSA key of ${alg.bits} bits is too weak (at least 2048)`;
    default:
      return `key type ${alg.type} is not allowed (use ECDSA P-256/P-384 or RSA >= 2048)`;
  }
}

export interface TtlPolicy {
  /** Lifetime when the request asks for none (0 or absent). */
  readonly defaultTtlMs: number;
  /** Longest lifetime granted; longer requests are capped. */
  readonly maxTtlMs: number;
}

export type TtlDecision =
  { readonly ok: true; readonly ttlMs: number } | { readonly ok: false; readonly reason: string };

/** The lifetime granted for a requested validity_duration (seconds). */
export function grantedTtl(validitySeconds: bigint, policy: TtlPolicy): TtlDecision {
  if (validitySeconds < 0n)
    return { ok: false, reason: `validity_duration must not be negative, got ${validitySeconds}` };
  if (validitySeconds === 0n)
    return { ok: true, ttlMs: Math.min(policy.defaultTtlMs, policy.maxTtlMs) };
  const requestedMs = validitySeconds * 1000n;
  return {
    ok: true,
    ttlMs: requestedMs > BigInt(policy.maxTtlMs) ? policy.maxTtlMs : Number(requestedMs),
  };
}
