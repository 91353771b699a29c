// Inbound plaintext (15006): connections redirected to a local workload without HBONE. Allowed
// only when policy allows a connection with no identity, so PeerAuthentication STRICT (a DENY
// policy matching notPrincipals: presence) refuses them and PERMISSIVE lets them through.
import type net from 'node:net';
import { reset, splice } from '@trellis/hbone';
import { recordConnection } from '../access-log/connection-record.js';
import type { ZtunnelContext } from './context.js';
import { appConnectOptions } from './app-connect.js';
import { decideInbound } from './inbound-policy.js';
import { redirectedEnds } from './redirected.js';
import type { SocketOps } from './socket-ops.js';

export function handlePlaintextInbound(
  ctx: ZtunnelContext,
  ops: SocketOps,
  socket: net.Socket,
  opts: { readonly localIps?: readonly string[]; readonly mark?: number },
): void {
  const ends = redirectedEnds(ops, socket, ctx.logger, 'inbound plaintext');
  if (!ends) return;
  const { src, dst } = ends;
  const decision = decideInbound(ctx.store, {
    sourceIp: src.address,
    destination: dst,
    ...(opts.localIps ? { localIps: opts.localIps } : {}),
    network: ctx.settings.network,
  });
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
    const { error } = await splice(socket, upstream);
    record.closed({
      received: socket.bytesRead,
      sent: socket.bytesWritten,
      ...(error ? { error } : {}),
    });
  })();
}
