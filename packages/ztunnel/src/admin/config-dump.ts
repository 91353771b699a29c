// The /config_dump document: the state store's contents, the certificates the identity manager
// holds (from an injected provider), and the settings the process runs with. Pure.
import type { StateDump } from '../state/store.js';

/** One certificate as the identity manager reports it. */
export interface CertificateSummary {
  /** SPIFFE ID. */
  readonly identity: string;
  /** Hex serial number of the leaf. */
  readonly serialNumber: string;
  /** ISO 8601 times. */
  readonly notBefore: string;
  readonly notAfter: string;
}

/** Returns the certificates currently held; empty until the identity manager exists. */
export type CertificateProvider = () =>
  readonly CertificateSummary[] | Promise<readonly CertificateSummary[]>;

export interface ConfigDump extends StateDump {
  readonly certificates: readonly (CertificateSummary & { readonly expiresInSeconds: number })[];
  readonly config?: unknown;
}

export function configDump(
  state: StateDump,
  certificates: readonly CertificateSummary[],
  now: number,
  config?: unknown,
): ConfigDump {
  return {
    ...state,
    certificates: [...certificates]
      .sort((a, b) => (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0))
      .map((c) => ({ ...c, expiresInSeconds: Math.floor((Date.parse(c.notAfter) - now) / 1000) })),
    ...(config !== undefined ? { config } : {}),
  };
}
