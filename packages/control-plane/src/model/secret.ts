// A Secret as the control plane keeps it: only what a gateway's TLS listener reads (type and, for
// `kubernetes.io/tls` Secrets, the PEM certificate chain and private key). Other Secrets are kept
// as names only, so a certificateRef to one says what is wrong with it.
import type { Meta } from './gateway-api.js';

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

export interface TlsSecret {
  readonly metadata: Meta;
  readonly type: string;
  /** PEM certificate chain (`data["tls.crt"]`), when it holds one. */
  readonly certificateChain?: string;
  /** PEM private key (`data["tls.key"]`), when it holds one. */
  readonly privateKey?: string;
}

/** Why a Secret cannot serve as a listener certificate, if it cannot. */
export function tlsSecretProblem(s: TlsSecret): string | undefined {
  if (s.type !== TLS_SECRET_TYPE && s.type !== 'Opaque')
    return `Secret ${s.metadata.namespace}/${s.metadata.name} is of type ${s.type}, not ${TLS_SECRET_TYPE}`;
  if (!s.certificateChain?.includes('-----BEGIN CERTIFICATE-----'))
    return `Secret ${s.metadata.namespace}/${s.metadata.name} has no PEM certificate in data["tls.crt"]`;
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(s.privateKey ?? ''))
    return `Secret ${s.metadata.namespace}/${s.metadata.name} has no PEM private key in data["tls.key"]`;
  return undefined;
}
