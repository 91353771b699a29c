// The waypoint's own workload certificate (spiffe://<td>/ns/<ns>/sa/<sa>): fetched from the CA,
// rotated by the SecretManager, presented on the HBONE server and used on every upstream HBONE
// connection. A waypoint asks only for its own identity.
import type { Meter } from '@opentelemetry/api';
import { createCaClient, SecretManager, type WorkloadCertificate } from '@trellis/ca/client';
import type { Logger } from '@trellis/core';
import type { ClientCredentials } from '@trellis/hbone';
import { parseTrustBundle, type TrustBundle } from '@trellis/pki';

export interface WaypointIdentity {
  readonly spiffeId: string;
  readonly trustBundle: TrustBundle;
  /** The current certificate (waits for the first one). */
  certificate(): Promise<WorkloadCertificate>;
  /** HBONE client credentials for the current certificate (the same object while it is current). */
  credentials(): Promise<ClientCredentials>;
  /** What /config_dump shows. */
  summary(): { identity: string; notBefore?: string; notAfter?: string };
  close(): void;
}

/** An identity served by a fixed certificate (tests, benchmarks). */
export function staticIdentity(
  spiffeId: string,
  rootPem: string,
  trustDomain: string,
  cert: WorkloadCertificate,
): WaypointIdentity {
  const trustBundle = parseTrustBundle(rootPem, { trustDomain });
  const creds: ClientCredentials = { key: cert.key, certChain: [...cert.chain], trustBundle };
  return {
    spiffeId,
    trustBundle,
    certificate: async () => cert,
    credentials: async () => creds,
    summary: () => ({
      identity: spiffeId,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
    }),
    close() {},
  };
}

export function caIdentity(o: {
  readonly spiffeId: string;
  readonly caAddress: string;
  readonly rootPem: string;
  readonly trustDomain: string;
  readonly token: string;
  readonly clusterId: string;
  readonly meter?: Meter;
  readonly logger: Logger;
}): WaypointIdentity {
  const client = createCaClient({
    address: o.caAddress,
    rootPem: o.rootPem,
    token: o.token,
    clusterId: o.clusterId,
  });
  const secrets = new SecretManager({
    request: (csr, opts) => client.createCertificate(csr, opts),
    rootPem: o.rootPem,
    ownIdentity: o.spiffeId,
    ...(o.meter ? { meter: o.meter } : {}),
    onError: (identity, err) =>
      o.logger.warn({ identity, err: err.message }, 'certificate request failed; retrying'),
  });
  const trustBundle = parseTrustBundle(o.rootPem, { trustDomain: o.trustDomain });
  const creds = new WeakMap<WorkloadCertificate, ClientCredentials>();
  return {
    spiffeId: o.spiffeId,
    trustBundle,
    certificate: () => secrets.fetch(o.spiffeId),
    async credentials() {
      const cert = await secrets.fetch(o.spiffeId);
      let c = creds.get(cert);
      if (!c) {
        c = { key: cert.key, certChain: [...cert.chain], trustBundle };
        creds.set(cert, c);
      }
      return c;
    },
    summary() {
      const c = secrets.current(o.spiffeId);
      return {
        identity: o.spiffeId,
        ...(c ? { notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() } : {}),
      };
    },
    close: () => secrets.close(),
  };
}
