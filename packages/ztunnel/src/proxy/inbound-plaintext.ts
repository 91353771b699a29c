// Inbound plaintext (15006): connections redirected to a local workload without HBONE. Allowed
// only when policy allows a connection with no identity, so PeerAuthentication STRICT (a DENY
// policy matching notPrincipals: presence) refuses them and PERMISSIVE lets them through.
import type net from 'node:net';
import { reset, splice } from '@trellis/hbone';
import { recordConnection } from '../access-log/connection-record.js';
import type { ZtunnelContext } from './context.js';
import { appConnectOptions } from './app-connect.js';
import { decideInbound, type InboundAttempt } from './inbound-policy.js';
import { revocationText, type PolicyWatch } from './policy-watch.js';
import { redirectedEnds } from './redirected.js';
import type { SocketOps } from './socket-ops.js';

interface PlaintextOptions {
  readonly localIps?: readonly string[];
  /** Waits (bounded) for an address to become local: an in-pod pod's workload may come late. */
  readonly awaitLocal?: (ip: string) => Promise<boolean>;
  readonly mark?: number;
  /** Keeps allowed connections under policy (STRICT turned on closes them). */
  readonly watch?: PolicyWatch;
}

export function handlePlaintextInbound(
  ctx: ZtunnelContext,
  ops: SocketOps,
  socket: net.Socket,
  opts: PlaintextOptions,
): void {
  const ends = redirectedEnds(ops, socket, ctx.logger, 'inbound plaintext');
  if (!ends) return;
  if (opts.awaitLocal && opts.localIps && !opts.localIps.includes(ends.dst.address)) {
    // The socket reads nothing until it is spliced, so nothing is lost while waiting.
    void opts.awaitLocal(ends.dst.address).then(() => serve(ctx, ops, socket, ends, opts));
    return;
  }
  serve(ctx, ops, socket, ends, opts);
}

function serve(
  ctx: ZtunnelContext,
  ops: SocketOps,
  socket: net.Socket,
  { src, dst }: NonNullable<ReturnType<typeof redirectedEnds>>,
  opts: PlaintextOptions,
): void {
  const attempt: InboundAttempt = {
    sourceIp: src.address,
    destination: dst,
    ...(opts.localIps ? { localIps: opts.localIps } : {}),
    network: ctx.settings.network,
  };
  const decision = decideInbound(ctx.store, attempt);
  const source = ctx.store.workloadByAddr(src.address, { network: ctx.settings.network });
  const record = recordConnection(
    { metrics: ctx.traffic, sink: ctx.accessLog },
    {
      direction: 'inbound',
      protocol: 'tcp',
      src,
      dst,
      ...(source ? { source } : {}),
      ...(decision.destination ? { destination: decision.destination } : {}),
    },
  );
  if (!decision.allow) {
    record.denied(decision.policy ?? decision.reason, decision.policy !== undefined);
    reset(socket, new Error(decision.reason));
    return;
  }
  void (async () => {
    let upstream: net.Socket;
    try {
      upstream = await ops.connect(appConnectOptions(dst, src.address, opts.mark));
    } catch (err) {
      record.failed('CONNECT', (err as Error).message);
      reset(socket, err as Error);
      return;
    }
    record.opened();
    opts.watch?.add(socket, attempt, (revoked) => {
      record.revoked(revoked);
      upstream.destroy(new Error(`no longer allowed: ${revocationText(revoked)}`));
    });
    const { error } = await splice(socket, upstream);
    opts.watch?.delete(socket);
    record.closed({
      received: socket.bytesRead,
      sent: socket.bytesWritten,
      ...(error ? { error } : {}),
    });
  })();
}
