// Trust bundles: the root certificates a workload trusts, optionally bound to one trust domain.
import { certificateName, parseCertificates, type CertificateInfo } from './certificate.js';
import { parseTrustDomain } from './spiffe.js';

export interface TrustBundle {
  /** When set, only SPIFFE IDs in this trust domain are accepted by verification. */
  readonly trustDomain?: string;
  /** The root certificates, in the order given. */
  readonly roots: readonly CertificateInfo[];
  /** All roots as one PEM text, ready for node:tls `ca`. */
  readonly pem: string;
}

export interface ParseTrustBundleOptions {
  /** Bind the bundle to this trust domain (e.g. "cluster.local"). */
  readonly trustDomain?: string;
}

/** Parses a PEM text holding one or more root (CA) certificates. */
export function parseTrustBundle(pem: string, options: ParseTrustBundleOptions = {}): TrustBundle {
  const trustDomain =
    options.trustDomain === undefined ? undefined : parseTrustDomain(options.trustDomain);
  const roots = parseCertificates(pem, 'trust bundle').map(({ info }, i, all) => {
    if (!info.basicConstraints?.ca) {
      const which = all.length > 1 ? `certificate #${i + 1} ` : 'certificate ';
      throw new Error(`trust bundle: ${which}${certificateName(info)} is not a CA certificate`);
    }
    return info;
  });
  return {
    ...(trustDomain ? { trustDomain } : {}),
    roots,
    pem: roots.map((r) => r.pem).join(''),
  };
}
