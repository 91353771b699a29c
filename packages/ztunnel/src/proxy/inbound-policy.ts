// Whether an inbound connection may reach a local workload (no I/O): the destination must be a
// known workload, a workload behind a waypoint only accepts its waypoints (when every way to it
// goes through one), and the L4
// authorization policies must allow the connection.
import type { WorkloadIdentity } from '@trellis/pki';
import { authorize } from '../rbac/authorize.js';
import { workloadSpiffeId, type Workload } from '../state/model.js';
import type { StateStore, WaypointTarget } from '../state/store.js';

export type InboundDecision =
  | { readonly allow: true; readonly destination: Workload }
  | {
      readonly allow: false;
      readonly reason: string;
      /** The DENY policy that matched, "<namespace>/<name>". */
      readonly policy?: string;
      readonly destination?: Workload;
    };

export interface InboundAttempt {
  /** The peer's proven identity (HBONE); undefined for plaintext. */
  readonly sourceIdentity?: WorkloadIdentity;
  /** The peer's SPIFFE URI as presented (for the waypoint check). */
  readonly peerUri?: string;
  /** The TCP source address (a waypoint's address when it forwarded the connection). */
  readonly sourceIp: string;
  readonly destination: { readonly address: string; readonly port: number };
  /** When set, the destination must be one of these IPs (the pod this proxy set serves). */
  readonly localIps?: readonly string[];
  readonly network?: string;
}

export function decideInbound(store: StateStore, a: InboundAttempt): InboundDecision {
  if (a.localIps && !a.localIps.includes(a.destination.address))
    return { allow: false, reason: `${a.destination.address} is not an address of this pod` };
  const destination = store.workloadByAddr(
    a.destination.address,
    a.network !== undefined ? { network: a.network } : {},
  );
  if (!destination)
    return { allow: false, reason: `no workload has address ${a.destination.address}` };
  const waypoints = waypointIdentities(store, destination);
  if (waypoints && a.peerUri !== undefined && !waypoints.includes(a.peerUri))
    return {
      allow: false,
      reason: `${a.peerUri} is not the waypoint of ${destination.namespace}/${destination.name}`,
      destination,
    };
  const decision = authorize(store.policiesFor(destination), {
    ...(a.sourceIdentity ? { sourceIdentity: a.sourceIdentity } : {}),
    sourceIp: a.sourceIp,
    destinationIp: a.destination.address,
    destinationPort: a.destination.port,
    destinationWorkload: destination,
  });
  if (decision.allowed) return { allow: true, destination };
  return {
    allow: false,
    reason: decision.reason === 'denied' ? 'denied by policy' : 'no ALLOW policy matched',
    ...(decision.policy !== undefined ? { policy: decision.policy } : {}),
    destination,
  };
}

/**
 * SPIFFE IDs allowed to reach a workload that has its own waypoint: that waypoint's and those of
 * its services' waypoints. Undefined (anyone, policy permitting) when it has none, or when one of
 * its services has no waypoint: traffic to that service comes straight from the client's
 * ztunnel, since a workload's waypoint only takes traffic addressed to the workload itself.
 */
function waypointIdentities(store: StateStore, w: Workload): string[] | undefined {
  const own = store.waypointFor(w);
  if (!own) return undefined;
  const ids = identitiesOf(store, own);
  for (const key of Object.keys(w.services)) {
    const service = store.serviceByKey(key);
    if (!service) continue;
    const wp = store.waypointFor(service);
    if (!wp) return undefined;
    ids.push(...identitiesOf(store, wp));
  }
  return ids;
}

function identitiesOf(store: StateStore, wp: WaypointTarget): string[] {
  if (wp.workload) return [workloadSpiffeId(wp.workload)];
  if (wp.service) return store.endpointsOf(wp.service).map((e) => workloadSpiffeId(e.workload));
  return [];
}
