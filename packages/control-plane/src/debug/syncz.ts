// /debug/syncz: what each connected proxy subscribed to and where it stands, from xds.debug().
import { metricType, type ConnectionDebug, type TypeDebug } from '@trellis/xds';

/** SYNCED: the last response was ACKed; STALE: one is awaiting its ACK or changes wait to be sent;
 *  NACKED: the last response was rejected; NOT SENT: nothing sent yet. */
export type SyncState = 'SYNCED' | 'STALE' | 'NACKED' | 'NOT SENT';

export interface SynczType {
  readonly typeUrl: string;
  readonly state: SyncState;
  readonly subscribed: readonly string[];
  readonly sentVersion: string | undefined;
  readonly ackedVersion: string | undefined;
  readonly resources: number;
  readonly responses: number;
  readonly nacks: number;
  readonly lastNack: string | undefined;
  /** Removed resources the proxy still holds until the types naming them caught up. */
  readonly retained: readonly string[];
}

export interface SynczEntry {
  readonly proxy: string;
  readonly connectionId: string;
  readonly peer: string;
  readonly protocol: 'sotw' | 'delta';
  readonly connectedAt: string;
  /** By short type name: lds, rds, cds, eds, address, authorization. */
  readonly types: Readonly<Record<string, SynczType>>;
}

export function syncz(connections: readonly ConnectionDebug[]): SynczEntry[] {
  return connections.map((c) => ({
    proxy: c.proxyId,
    connectionId: c.connectionId,
    peer: c.peer,
    protocol: c.protocol,
    connectedAt: c.connectedAt,
    types: Object.fromEntries(c.types.map((t) => [metricType(t.typeUrl), typeEntry(t)])),
  }));
}

function typeEntry(t: TypeDebug): SynczType {
  return {
    typeUrl: t.typeUrl,
    state: syncState(t),
    subscribed: t.subscribed,
    sentVersion: t.sentVersion,
    ackedVersion: t.ackedVersion,
    resources: t.resources,
    responses: t.responses,
    nacks: t.nacks,
    lastNack: t.lastError,
    retained: t.retained,
  };
}

export function syncState(t: TypeDebug): SyncState {
  if (t.sentNonce === undefined) return 'NOT SENT';
  if (t.awaitingAck || t.pending) return 'STALE';
  if (t.ackedNonce !== t.sentNonce) return 'NACKED';
  return 'SYNCED';
}
