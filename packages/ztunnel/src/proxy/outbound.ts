// Outbound (15001): a connection a pod made, redirected here. Its original destination is routed
// through the state store (outbound-route.ts): HBONE to the destination pod or its waypoint with
// the source pod's certificate, or plain TCP passthrough for destinations outside the mesh.
import type net from 'node:net';
import {
  formatAuthority,
  HboneStatusError,
  reset,
  splice,
  type TunnelStream,
} from '@trellis/hbone';
import { parseSpiffeId } from '@trellis/pki';
import { recordConnection } from '../access-log/connection-record.js';
import { workloadSpiffeId, type Workload } from '../state/model.js';
import type { ZtunnelContext } from './context.js';
import { routeOutbound } from './outbound-route.js';
import { passthrough } from './passthrough.js';
import { redirectedEnds } from './redirected.js';
import type { SocketOps } from './socket-ops.js';
import { tunnelHeaders } from './tunnel-headers.js';

/** Who the connecting pod is: fixed in-pod, found by source IP in all-workloads mode. */
export interface OutboundSource {
  /** The source workload for this client address (store lookup). */
  workload(sourceIp: string): Workload | undefined;
  /** The source SPIFFE ID, even before the store knows the workload (in-pod: from ZDS). */
  identity(sourceIp: string): string | undefined;
  /** The IP to bind HBONE connections to (in-pod: the pod IP); undefined to not bind. */
  bindIp(sourceIp: string): string | undefined;
}

export function handleOutbound(
  ctx: ZtunnelContext,
  ops: SocketOps,
  socket: net.Socket,
  from: OutboundSource,
  mark: number | undefined,
): void {
  const ends = redirectedEnds(ops, socket, ctx.logger, 'outbound');
  if (!ends) return;
  const { src, dst } = ends;
  const source = from.workload(src.address);
  const route = routeOutbound(ctx.store, dst, {
    hbonePort: ctx.settings.hbonePort,
    network: ctx.settings.network,
    ...(source ? { source } : {}),
  });
  const deps = { metrics: ctx.traffic, sink: ctx.accessLog };
  if (route.kind === 'refuse') {
    const record = recordConnection(deps, {
      direction: 'outbound',
      protocol: 'hbone',
      src,
      dst,
      ...(source ? { source } : {}),
      ...(route.service ? { destinationService: route.service } : {}),
    });
    record.failed('CONNECT', route.reason);
    reset(socket, new Error(route.reason));
    return;
  }
  if (route.kind === 'passthrough') {
    const record = recordConnection(deps, {
      direction: 'outbound',
      protocol: 'tcp',
      src,
      dst: route.target,
      ...(source ? { source } : {}),
      ...(route.destination ? { destination: route.destination } : {}),
      ...(route.service ? { destinationService: route.service } : {}),
    });
    void passthrough(socket, route.target, ops, record, mark);
    return;
  }
  const identity = from.identity(src.address) ?? (source ? workloadSpiffeId(source) : undefined);
  const record = recordConnection(deps, {
    direction: 'outbound',
    protocol: 'hbone',
    src,
    dst: route.target,
    ...(route.waypoint ? { via: formatAuthority(route.hbone) } : {}),
    ...(source ? { source } : {}),
    ...(identity ? { sourceIdentity: parseSpiffeId(identity) } : {}),
    ...(route.destination ? { destination: route.destination } : {}),
    ...(route.service ? { destinationService: route.service } : {}),
    destinationIdentity: route.identity,
  });
  if (identity === undefined) {
    record.failed('IDENTITY_ERROR', `no workload in the mesh has source address ${src.address}`);
    reset(socket, new Error('unknown source'));
    return;
  }
  void (async () => {
    socket.pause();
    let tunnel: TunnelStream;
    try {
      const cert = await ctx.identity.fetch(identity);
      const bindIp = from.bindIp(src.address);
      tunnel = await ctx.hbone.connect({
        source: { key: cert.key, certChain: cert.chain, trustBundle: ctx.identity.trustBundle },
        destinationIdentity: route.identity,
        destinationIp: route.hbone.address,
        hbonePort: route.hbone.port,
        target: formatAuthority(route.target),
        headers: tunnelHeaders(src, source),
        ...(bindIp !== undefined ? { sourceIp: bindIp } : {}),
      });
    } catch (err) {
      if (err instanceof HboneStatusError && err.status === 401) record.denied(err.message, false);
      else record.failed('CONNECT', (err as Error).message);
      reset(socket, err as Error);
      return;
    }
    record.opened();
    const { error } = await splice(socket, tunnel);
    record.closed({
      received: socket.bytesRead,
      sent: socket.bytesWritten,
      ...(error ? { error } : {}),
    });
  })();
}
