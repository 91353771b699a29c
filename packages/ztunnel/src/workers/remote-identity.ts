// A worker's identity manager: certificates come from the primary's (which talks to the CA and
// rotates them), cached here. A cached certificate is used until the primary has rotated it (60%
// of its lifetime, after the primary's 45-55%); past that it is still served while a fresh copy is
// fetched, and never after it expired.
import type { TrustBundle } from '@trellis/pki';
import type { CertificateSummary } from '../admin/config-dump.js';
import type { IdentityManager, WorkloadCertificate } from '../identity/identity-manager.js';

export interface RemoteIdentityOptions {
  readonly trustBundle: TrustBundle;
  /** Asks the primary for the current certificate of `identity`. */
  readonly request: (identity: string) => Promise<WorkloadCertificate>;
  readonly now?: () => number;
}

/** When a worker asks again: after 60% of the lifetime, and at least `minMs` from now. */
export function refreshAt(cert: WorkloadCertificate, now: number, minMs = 5000): number {
  const from = cert.notBefore.getTime();
  return Math.max(from + 0.6 * (cert.notAfter.getTime() - from), now + minMs);
}

export function remoteIdentityManager(o: RemoteIdentityOptions): IdentityManager {
  const now = o.now ?? Date.now;
  const cache = new Map<string, { cert: WorkloadCertificate; refreshAt: number }>();
  const inflight = new Map<string, Promise<WorkloadCertificate>>();
  const refresh = (identity: string) => {
    let p = inflight.get(identity);
    if (!p) {
      p = o.request(identity).then(
        (cert) => {
          inflight.delete(identity);
          cache.set(identity, { cert, refreshAt: refreshAt(cert, now()) });
          return cert;
        },
        (err: unknown) => {
          inflight.delete(identity);
          throw err;
        },
      );
      inflight.set(identity, p);
    }
    return p;
  };
  return {
    trustBundle: o.trustBundle,
    fetch(identity) {
      const entry = cache.get(identity);
      const t = now();
      if (entry && entry.cert.notAfter.getTime() > t) {
        if (t >= entry.refreshAt) refresh(identity).catch(() => undefined);
        return Promise.resolve(entry.cert);
      }
      return refresh(identity);
    },
    forget(identity) {
      cache.delete(identity);
    },
    certificates(): CertificateSummary[] {
      return [];
    },
    close() {
      cache.clear();
    },
  };
}

export function certificateFromMessage(m: {
  identity: string;
  key: string;
  chain: readonly string[];
  notBefore: string;
  notAfter: string;
}): WorkloadCertificate {
  return { ...m, notBefore: new Date(m.notBefore), notAfter: new Date(m.notAfter) };
}
