// Certificates per workload identity, from the CA: one SecretManager (key + CSR per identity,
// rotation, retry) behind a small interface the proxies and /config_dump use. Identities other
// than ztunnel's own are requested with ImpersonatedIdentity; the CA allows that only for pods on
// ztunnel's node.
import type { Meter } from '@opentelemetry/api';
import { createCaClient, SecretManager, type WorkloadCertificate } from '@trellis/ca';
import type { Logger } from '@trellis/core';
import { inspectCertificate, parseTrustBundle, type TrustBundle } from '@trellis/pki';
import type { CertificateSummary } from '../admin/config-dump.js';

export type { WorkloadCertificate } from '@trellis/ca';

export interface IdentityManager {
  /** Roots that peers' chains must verify against, bound to the trust domain. */
  readonly trustBundle: TrustBundle;
  /** The current certificate for a SPIFFE ID, fetching it from the CA on first use. */
  fetch(identity: string): Promise<WorkloadCertificate>;
  /** Stops rotating an identity (its last workload left). */
  forget(identity: string): void;
  /** What /config_dump shows: every certificate held now. */
  certificates(): CertificateSummary[];
  close(): void;
}

export interface CaIdentityOptions {
  /** CA host:port (istio.v1.auth.IstioCertificateService over TLS). */
  readonly caAddress: string;
  /** Root(s) of the mesh, PEM: the CA's TLS chain, workload chains and peers all verify against it. */
  readonly rootPem: string;
  readonly trustDomain: string;
  /** Bearer token: a file path (re-read on every request) or a function. */
  readonly token: string | (() => string | Promise<string>);
  /** ztunnel's own SPIFFE ID; every other identity is requested with ImpersonatedIdentity. */
  readonly ownIdentity: string;
  readonly clusterId?: string;
  /** Name the CA's certificate must carry when it differs from the address host. */
  readonly caServerName?: string;
  readonly meter?: Meter;
  readonly logger?: Logger;
}

/** An identity manager that asks the CA for every certificate. */
export function createCaIdentityManager(o: CaIdentityOptions): IdentityManager {
  const client = createCaClient({
    address: o.caAddress,
    rootPem: o.rootPem,
    token: o.token,
    ...(o.clusterId !== undefined ? { clusterId: o.clusterId } : {}),
    ...(o.caServerName !== undefined ? { serverName: o.caServerName } : {}),
  });
  const secrets = new SecretManager({
    request: (csr, opts) => client.createCertificate(csr, opts),
    rootPem: o.rootPem,
    ownIdentity: o.ownIdentity,
    ...(o.meter ? { meter: o.meter } : {}),
    onError: (identity, err) =>
      o.logger?.warn({ identity, err: err.message }, 'certificate request failed; retrying'),
  });
  const known = new Set<string>();
  return {
    trustBundle: parseTrustBundle(o.rootPem, { trustDomain: o.trustDomain }),
    fetch(identity) {
      known.add(identity);
      return secrets.fetch(identity);
    },
    forget(identity) {
      known.delete(identity);
      secrets.forget(identity);
    },
    certificates() {
      const out: CertificateSummary[] = [];
      for (const identity of known) {
        const cert = secrets.current(identity);
        const leaf = cert?.chain[0];
        if (!cert || leaf === undefined) continue;
        out.push({
          identity,
          serialNumber: inspectCertificate(leaf).serialNumber,
          notBefore: cert.notBefore.toISOString(),
          notAfter: cert.notAfter.toISOString(),
        });
      }
      return out;
    },
    close() {
      secrets.close();
      client.close();
    },
  };
}
