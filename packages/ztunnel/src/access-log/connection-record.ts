// One proxied connection from accept to close: it bumps Istio's TCP metrics and writes one JSON
// access-log line when it ends. Denied and failed connections are counted in
// istio_tcp_connections_failed_total with response_flags DENY / CONNECT (never as opened), so
// opened - closed is always the number of connections carrying bytes right now.
import type { WorkloadIdentity } from '@trellis/pki';
import { trafficLabels, type ResponseFlags, type TrafficMetrics } from '../metrics.js';
import { workloadSpiffeId, type Service, type Workload } from '../state/model.js';

export interface AccessLogEntry {
  /** inbound: this ztunnel is the destination side; outbound: the source side. */
  readonly direction: 'inbound' | 'outbound';
  /** hbone: mutual TLS tunnel; tcp: plaintext (passthrough out, PERMISSIVE in). */
  readonly protocol: 'hbone' | 'tcp';
  /** "ip:port" of the client and of the original destination. */
  readonly src: string;
  readonly dst: string;
  /** The HBONE hop when not the destination itself (a waypoint). */
  readonly via?: string;
  readonly srcIdentity?: string;
  readonly dstIdentity?: string;
  readonly srcWorkload?: string;
  readonly dstWorkload?: string;
  readonly dstService?: string;
  /** allow, deny (policy refused), or error (could not connect / reset). */
  readonly decision: 'allow' | 'deny' | 'error';
  /** The policy that denied, as "<namespace>/<name>", or the reason. */
  readonly policy?: string;
  readonly reason?: string;
  /** Bytes from the client to the server, and back. */
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly durationMs: number;
}

export type AccessLogSink = (entry: AccessLogEntry) => void;

export interface ConnectionParties {
  readonly direction: 'inbound' | 'outbound';
  readonly protocol: 'hbone' | 'tcp';
  readonly src: { readonly address: string; readonly port: number };
  readonly dst: { readonly address: string; readonly port: number };
  readonly via?: string;
  readonly source?: Workload;
  readonly sourceIdentity?: WorkloadIdentity;
  readonly destination?: Workload;
  readonly destinationService?: Service;
  /** The SPIFFE ID the destination proved or must prove, when not the destination workload's. */
  readonly destinationIdentity?: string;
}

export interface ConnectionRecord {
  /** Bytes start to flow: counts the connection as opened. */
  opened(): void;
  /** Ends the record: closed (after opened) with its bytes, or failed. Later calls are ignored. */
  closed(bytes: { received: number; sent: number; error?: Error }): void;
  /**
   * The connection is being closed because policy no longer allows it: its close is logged as a
   * deny by that policy ("no longer allowed: <reason>"), with the bytes it carried if it opened.
   */
  revoked(why: { reason: string; policy?: string }): void;
  denied(policyOrReason: string, isPolicy: boolean): void;
  failed(flags: ResponseFlags, reason: string): void;
}

export interface RecorderDeps {
  readonly metrics: TrafficMetrics;
  readonly sink: AccessLogSink;
  readonly now?: () => number;
}

function hostPort(e: { address: string; port: number }): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

function spiffe(id: WorkloadIdentity): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** Starts the record of one connection (call when it is accepted). */
export function recordConnection(deps: RecorderDeps, parties: ConnectionParties): ConnectionRecord {
  const now = deps.now ?? Date.now;
  const start = now();
  let isOpen = false;
  let done = false;
  let revoked: { reason: string; policy?: string } | undefined;
  const build = (flags?: ResponseFlags) =>
    trafficLabels({
      reporter: parties.direction === 'outbound' ? 'source' : 'destination',
      ...(parties.source ? { source: parties.source } : {}),
      ...(parties.sourceIdentity ? { sourceIdentity: parties.sourceIdentity } : {}),
      ...(parties.destination ? { destination: parties.destination } : {}),
      ...(parties.destinationService ? { destinationService: parties.destinationService } : {}),
      securityPolicy: parties.protocol === 'hbone' ? 'mutual_tls' : 'unknown',
      ...(flags ? { responseFlags: flags } : {}),
    });
  // Built once for the opened and closed counts: the counters resolve a labels object once.
  let open: ReturnType<typeof build> | undefined;
  const labels = (flags?: ResponseFlags) => (flags ? build(flags) : (open ??= build()));
  const srcIdentity = parties.sourceIdentity
    ? spiffe(parties.sourceIdentity)
    : parties.source && parties.direction === 'outbound'
      ? workloadSpiffeId(parties.source)
      : undefined;
  const dstIdentity =
    parties.destinationIdentity ??
    (parties.destination ? workloadSpiffeId(parties.destination) : undefined);
  const write = (
    rest: Pick<AccessLogEntry, 'decision' | 'bytesReceived' | 'bytesSent'> & {
      policy?: string;
      reason?: string;
    },
  ) =>
    deps.sink({
      direction: parties.direction,
      protocol: parties.protocol,
      src: hostPort(parties.src),
      dst: hostPort(parties.dst),
      ...(parties.via ? { via: parties.via } : {}),
      ...(srcIdentity ? { srcIdentity } : {}),
      ...(dstIdentity ? { dstIdentity } : {}),
      ...(parties.source
        ? { srcWorkload: `${parties.source.namespace}/${parties.source.name}` }
        : {}),
      ...(parties.destination
        ? { dstWorkload: `${parties.destination.namespace}/${parties.destination.name}` }
        : {}),
      ...(parties.destinationService
        ? {
            dstService: `${parties.destinationService.namespace}/${parties.destinationService.hostname}`,
          }
        : {}),
      ...rest,
      durationMs: now() - start,
    });
  const fail = (
    flags: ResponseFlags,
    decision: 'deny' | 'error',
    extra: { policy?: string; reason?: string },
  ) => {
    if (done) return;
    done = true;
    deps.metrics.connectionsFailed.add(1, labels(flags));
    write({ decision, bytesReceived: 0, bytesSent: 0, ...extra });
  };
  return {
    opened() {
      if (isOpen || done) return;
      isOpen = true;
      deps.metrics.connectionsOpened.add(1, labels());
    },
    closed({ received, sent, error }) {
      if (done) return;
      if (!isOpen)
        return fail('CONNECT', 'error', { reason: error?.message ?? 'closed before connecting' });
      done = true;
      const l = labels();
      deps.metrics.connectionsClosed.add(1, l);
      deps.metrics.receivedBytes.add(received, l);
      deps.metrics.sentBytes.add(sent, l);
      write({
        decision: revoked ? 'deny' : error ? 'error' : 'allow',
        bytesReceived: received,
        bytesSent: sent,
        ...(revoked?.policy ? { policy: revoked.policy } : {}),
        ...(revoked
          ? { reason: `no longer allowed: ${revoked.reason}` }
          : error
            ? { reason: error.message }
            : {}),
      });
    },
    revoked(why) {
      if (isOpen) revoked = why;
      else
        fail('DENY', 'deny', {
          ...(why.policy ? { policy: why.policy } : {}),
          reason: `no longer allowed: ${why.reason}`,
        });
    },
    denied(what, isPolicy) {
      fail('DENY', 'deny', isPolicy ? { policy: what } : { reason: what });
    },
    failed(flags, reason) {
      fail(flags, 'error', { reason });
    },
  };
}
