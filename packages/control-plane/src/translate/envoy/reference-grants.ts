// ReferenceGrant (Gateway API v1): whether an object may refer to one in another namespace. The
// one check used for a Gateway's certificateRefs and a Gateway-bound route's backendRefs, by the
// translators and by status alike. Pure.
import type { ReferenceGrant } from '../../model/gateway-api.js';

export interface ReferenceFrom {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}

export interface ReferenceTo {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** Same namespace, or a ReferenceGrant in the target's namespace lets `from` refer to it. */
export function referenceAllowed(
  grants: readonly ReferenceGrant[] | undefined,
  from: ReferenceFrom,
  to: ReferenceTo,
): boolean {
  if (from.namespace === to.namespace) return true;
  return (grants ?? []).some(
    (g) =>
      g.metadata.namespace === to.namespace &&
      g.spec.from.some(
        (f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace,
      ) &&
      g.spec.to.some(
        (t) =>
          t.group === to.group &&
          t.kind === to.kind &&
          (t.name === undefined || t.name === to.name),
      ),
  );
}
