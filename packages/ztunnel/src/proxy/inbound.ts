// Inbound HBONE (15008): mutual TLS with the certificate of the local workload that owns the
// destination IP, then per CONNECT: the destination must be a known local workload, a workload
// behind a waypoint only takes its waypoint, and L4 policy must allow the peer; allowed streams
// are spliced to the app at the :authority target, and stay under policy (policy-watch.ts).
//
// The source IP given to policy is the HBONE connection's TCP source. Behind a waypoint that is
// the waypoint's address; the original client is in the `forwarded` header, which is not trusted
// for policy yet.
import type { Meter } from '@opentelemetry/api';
import type { Duplex } from 'node:stream';
import { HboneServer, type ConnectRequest } from '@trellis/hbone';
import { parseSpiffeId, type WorkloadIdentity } from '@trellis/pki';
import { recordConnection, type ConnectionRecord } from '../access-log/connection-record.js';
import { workloadSpiffeId } from '../state/model.js';
import type { ZtunnelContext } from './context.js';
import { appConnectOptions } from './app-connect.js';
import { decideInbound, type InboundAttempt } from './inbound-policy.js';
import { revocationText, type PolicyWatch } from './policy-watch.js';
import type { SocketOps } from './socket-ops.js';

export interface InboundOptions {
  /** IPs of the pod served; unset in all-workloads mode (any workload in the store). */
  readonly localIps?: readonly string[];
  /** Waits (a bounded time) for `ip` to become one of localIps: the pod's workload may come late. */
  readonly awaitLocal?: (ip: string) => Promise<boolean>;
  /** SO_MARK for connections to the app (in-pod). */
  readonly mark?: number;
  readonly meter?: Meter;
  /** Keeps allowed tunnels under policy: closes them when a state change no longer allows them. */
  readonly watch?: PolicyWatch;
}

export function createInboundServer(
  ctx: ZtunnelContext,
  ops: SocketOps,
  opts: InboundOptions,
): HboneServer {
  const records = new WeakMap<ConnectRequest, ConnectionRecord>();
  // The app socket of an allowed tunnel once dialled, or why it was revoked before that.
  const tunnels = new WeakMap<ConnectRequest, { socket?: Duplex; revoked?: string }>();
  const log = ctx.logger.child({ proxy: 'inbound' });
  const lookup = { network: ctx.settings.network };
  return new HboneServer({
    trustBundle: ctx.identity.trustBundle,
    logger: log,
    idleTimeoutMs: ctx.settings.hboneIdleTimeoutMs,
    budget: ctx.inboundBudget,
    ...((opts.meter ?? ctx.meter) ? { meter: opts.meter ?? ctx.meter } : {}),
    async certificateFor(ip) {
      if (opts.localIps && !opts.localIps.includes(ip) && !(await opts.awaitLocal?.(ip)))
        throw new Error(`${ip} is not an address of this pod`);
      const w = ctx.store.workloadByAddr(ip, lookup);
      if (!w) throw new Error(`no workload has address ${ip}`);
      const cert = await ctx.identity.fetch(workloadSpiffeId(w));
      return { key: cert.key, certChain: cert.chain };
    },
    onConnect(req) {
      let identity: WorkloadIdentity | undefined;
      try {
        identity = parseSpiffeId(req.peer.uri);
      } catch {
        identity = undefined;
      }
      const attempt: InboundAttempt | undefined = identity && {
        sourceIdentity: identity,
        peerUri: req.peer.uri,
        sourceIp: req.source.address,
        destination: req.target,
        localIps: opts.localIps ?? [req.destination.address],
        network: ctx.settings.network,
      };
      const decision = attempt
        ? decideInbound(ctx.store, attempt)
        : ({ allow: false, reason: `${req.peer.uri} is not a workload identity` } as const);
      const destination = decision.destination;
      const record = recordConnection(
        { metrics: ctx.traffic, sink: ctx.accessLog },
        {
          direction: 'inbound',
          protocol: 'hbone',
          src: req.source,
          dst: req.target,
          ...(identity ? { sourceIdentity: identity } : {}),
          ...(identity ? { source: ctx.store.workloadByAddr(req.source.address, lookup) } : {}),
          ...(destination ? { destination } : {}),
        },
      );
      if (!decision.allow) {
        record.denied(decision.policy ?? decision.reason, decision.policy !== undefined);
        log.debug({ peer: req.peer.uri, target: req.target, reason: decision.reason }, 'denied');
        return {
          allow: false,
          reason: decision.policy ? `${decision.reason}: ${decision.policy}` : decision.reason,
        };
      }
      records.set(req, record);
      if (attempt && opts.watch) {
        const tunnel: { socket?: Duplex; revoked?: string } = {};
        tunnels.set(req, tunnel);
        opts.watch.add(req, attempt, (revoked) => {
          record.revoked(revoked);
          tunnel.revoked = revocationText(revoked);
          tunnel.socket?.destroy(new Error(`no longer allowed: ${tunnel.revoked}`));
        });
      }
      return { allow: true };
    },
    async dial(target, req) {
      const tunnel = tunnels.get(req);
      try {
        const socket = await ops.connect(appConnectOptions(target, req.source.address, opts.mark));
        if (tunnel?.revoked) {
          socket.destroy();
          throw new Error(`no longer allowed: ${tunnel.revoked}`);
        }
        if (tunnel) tunnel.socket = socket;
        records.get(req)?.opened();
        return socket;
      } catch (err) {
        opts.watch?.delete(req);
        records.get(req)?.failed('CONNECT', (err as Error).message);
        throw err;
      }
    },
    onStreamClosed(req, stats) {
      opts.watch?.delete(req);
      records.get(req)?.closed({
        received: stats.bytesReceived,
        sent: stats.bytesSent,
        ...(stats.error ? { error: stats.error } : {}),
      });
    },
  });
}
