// Decides which SPIFFE identity a caller may receive. Pure: the caller, the requested
// impersonation and the service accounts running on the caller's node come in; a decision comes out.
import { formatSpiffeId, parseSpiffeId } from '@trellis/pki';
import { formatServiceAccount, type Caller, type ServiceAccountRef } from './caller.js';

export interface AuthorizeInput {
  readonly caller: Caller;
  readonly trustDomain: string;
  /** The ImpersonatedIdentity the caller asked for, if any. */
  readonly impersonated?: string;
  /** Node proxies allowed to impersonate. */
  readonly trustedNodeProxies: readonly ServiceAccountRef[];
  /** Service accounts with a pod on the caller's node; [] when the node is unknown. */
  readonly workloadsOnCallerNode: readonly ServiceAccountRef[];
}

export type AuthorizeDecision =
  | { readonly allowed: true; readonly identity: string }
  | { readonly allowed: false; readonly reason: string };

const sameAccount = (a: ServiceAccountRef, b: ServiceAccountRef) =>
  a.namespace === b.namespace && a.serviceAccount === b.serviceAccount;

export function authorize(input: AuthorizeInput): AuthorizeDecision {
  const { caller, trustDomain, impersonated } = input;
  const own = formatSpiffeId({
    trustDomain,
    namespace: caller.namespace,
    serviceAccount: caller.serviceAccount,
  });
  if (impersonated === undefined || impersonated === '' || impersonated === own)
    return { allowed: true, identity: own };

  const who = `caller ${formatServiceAccount(caller)}`;
  if (!input.trustedNodeProxies.some((p) => sameAccount(p, caller))) {
    return deny(`${who} may not impersonate ${impersonated}: it is not a trusted node proxy`);
  }
  let target: ServiceAccountRef;
  try {
    const id = parseSpiffeId(impersonated);
    if (id.trustDomain !== trustDomain) {
      return deny(`impersonated identity ${impersonated} is not in trust domain ${trustDomain}`);
    }
    target = id;
  } catch (err) {
    return deny(
      `impersonated identity ${JSON.stringify(impersonated)} is invalid: ${(err as Error).message}`,
    );
  }
  if (!caller.node)
    return deny(`${who} has no known node, so it may not impersonate ${impersonated}`);
  if (!input.workloadsOnCallerNode.some((w) => sameAccount(w, target))) {
    return deny(
      `no pod with service account ${formatServiceAccount(target)} runs on node ${caller.node} of ${who}`,
    );
  }
  return { allowed: true, identity: formatSpiffeId({ trustDomain, ...pick(target) }) };
}

function pick(ref: ServiceAccountRef): ServiceAccountRef {
  return { namespace: ref.namespace, serviceAccount: ref.serviceAccount };
}

function deny(reason: string): AuthorizeDecision {
  return { allowed: false, reason };
}
