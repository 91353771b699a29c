// The attributes of a connection that L4 authorization looks at. Pure.
import type { WorkloadIdentity } from '@trellis/pki';
import type { Workload } from '../state/model.js';

export interface ConnectionAttributes {
  /** The peer's SPIFFE identity from mTLS (HBONE); undefined for a plaintext connection. */
  readonly sourceIdentity?: WorkloadIdentity;
  readonly sourceIp: string;
  readonly destinationIp: string;
  readonly destinationPort: number;
  /** The workload being connected to; the policies evaluated are the ones that apply to it. */
  readonly destinationWorkload?: Workload;
}

/** The identity as policies spell principals: "<trust domain>/ns/<namespace>/sa/<account>". */
export function principalOf(id: WorkloadIdentity): string {
  return `${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}
