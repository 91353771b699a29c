// Who is asking for a certificate, as established by an authenticator.

/** A Kubernetes service account. */
export interface ServiceAccountRef {
  readonly namespace: string;
  readonly serviceAccount: string;
}

/** An authenticated caller: its service account and, when known, the node its pod runs on. */
export interface Caller extends ServiceAccountRef {
  readonly node?: string;
}

/** Thrown by authenticators for a missing or invalid token; becomes UNAUTHENTICATED. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

/** Turns a bearer token into a caller, or throws AuthenticationError saying why not. */
export interface Authenticator {
  authenticate(token: string): Promise<Caller>;
}

/** Which service accounts have a pod on a node (for impersonation). */
export interface NodeIndex {
  workloadsOn(node: string): readonly ServiceAccountRef[];
}

export function formatServiceAccount(ref: ServiceAccountRef): string {
  return `${ref.namespace}/${ref.serviceAccount}`;
}

/** Parses "ns/sa" (as used in --trusted-node-proxies). */
export function parseServiceAccountRef(text: string): ServiceAccountRef {
  const parts = text.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new Error(`"${text}" is not <namespace>/<service-account>`);
  }
  return { namespace: parts[0], serviceAccount: parts[1] };
}
