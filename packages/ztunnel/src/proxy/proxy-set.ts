// One set of listeners: outbound (15001), inbound HBONE (15008) and inbound plaintext (15006).
// In-pod, one set per pod, its sockets opened in the pod's netns by the given ops and marked
// 0x539; in shared mode (local runs) one set in ztunnel's own namespace serves every workload.
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { HboneServer } from '@trellis/hbone';
import { ConnectionSet } from './connection-set.js';
import type { ZtunnelContext } from './context.js';
import { createInboundServer } from './inbound.js';
import { handlePlaintextInbound } from './inbound-plaintext.js';
import { handleOutbound, type OutboundSource } from './outbound.js';
import { ZTUNNEL_MARK, type SocketOps } from './socket-ops.js';
import { workloadSpiffeId } from '../state/model.js';

export type { ZtunnelContext } from './context.js';

export interface PodProxySpec {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
  ips: string[];
}

export interface ProxySet {
  readonly ports: { outbound: number; inbound: number; inboundPlaintext: number };
  close(drainMs?: number): Promise<void>;
}

export const DEFAULT_PORTS = { outbound: 15001, inbound: 15008, inboundPlaintext: 15006 } as const;

/** Where shared-mode listeners bind (host:port each). */
export interface SharedListenAddresses {
  readonly outbound: { readonly host: string; readonly port: number };
  readonly inbound: { readonly host: string; readonly port: number };
  readonly inboundPlaintext: { readonly host: string; readonly port: number };
}

/** Starts outbound (15001), inbound HBONE (15008) and inbound plaintext (15006) for one pod with the given socket ops. */
export async function startProxySet(
  ctx: ZtunnelContext,
  pod: PodProxySpec,
  ops: SocketOps,
  ports?: Partial<ProxySet['ports']>,
): Promise<ProxySet> {
  const p = { ...DEFAULT_PORTS, ...ports };
  const trustDomain = ctx.identity.trustBundle.trustDomain ?? 'cluster.local';
  const ownIdentity = `spiffe://${trustDomain}/ns/${pod.namespace}/sa/${pod.serviceAccount}`;
  const podWorkload = () =>
    ctx.store.workloadByUid(pod.uid) ??
    pod.ips.map((ip) => ctx.store.workloadByAddr(ip, { network: ctx.settings.network })).find((w) => w);
  const source: OutboundSource = {
    workload: () => podWorkload(),
    identity: () => ownIdentity,
    bindIp: (srcIp) => (pod.ips.includes(srcIp) ? srcIp : pod.ips[0]),
  };
  for (const ip of pod.ips) ctx.sourceSockets.set(ip, { ops, mark: ZTUNNEL_MARK });
  try {
    return await startListeners(ctx, ops, {
      source,
      localIps: pod.ips,
      mark: ZTUNNEL_MARK,
      addresses: {
        // REDIRECT in OUTPUT sends to 127.0.0.1; REDIRECT in PREROUTING to the pod's address.
        outbound: { host: '127.0.0.1', port: p.outbound },
        inbound: { host: '0.0.0.0', port: p.inbound },
        inboundPlaintext: { host: '0.0.0.0', port: p.inboundPlaintext },
      },
      transparent: true,
      onClose: () => {
        for (const ip of pod.ips) ctx.sourceSockets.delete(ip);
      },
    });
  } catch (err) {
    for (const ip of pod.ips) ctx.sourceSockets.delete(ip);
    throw err;
  }
}

/**
 * Shared (host netns) mode for local runs: one set of listeners for every workload in the store;
 * the source workload of an outbound connection is found by the client's address, no marks.
 */
export function startSharedProxySet(
  ctx: ZtunnelContext,
  ops: SocketOps,
  addresses: SharedListenAddresses,
): Promise<ProxySet> {
  const lookup = { network: ctx.settings.network };
  return startListeners(ctx, ops, {
    source: {
      workload: (ip) => ctx.store.workloadByAddr(ip, lookup),
      identity: (ip) => {
        const w = ctx.store.workloadByAddr(ip, lookup);
        return w ? workloadSpiffeId(w) : undefined;
      },
      bindIp: () => undefined,
    },
    addresses,
    transparent: false,
  });
}

interface ListenerPlan {
  readonly source: OutboundSource;
  readonly localIps?: readonly string[];
  readonly mark?: number;
  readonly addresses: SharedListenAddresses;
  readonly transparent: boolean;
  readonly onClose?: () => void;
}

async function startListeners(
  ctx: ZtunnelContext,
  ops: SocketOps,
  plan: ListenerPlan,
): Promise<ProxySet> {
  const servers: net.Server[] = [];
  const downstream = new ConnectionSet();
  let hbone: HboneServer | undefined;
  const closeAll = async (drainMs: number) => {
    for (const s of servers) s.close();
    await Promise.all([hbone?.close({ drainMs }), downstream.drain(drainMs)]);
    plan.onClose?.();
  };
  try {
    const listen = (a: { host: string; port: number }) =>
      ops.listen({ ...a, ...(plan.transparent ? { transparent: true } : {}) }).then((s) => {
        servers.push(s);
        return s;
      });
    const outbound = await listen(plan.addresses.outbound);
    outbound.on('connection', (socket: net.Socket) => {
      downstream.add(socket);
      handleOutbound(ctx, ops, socket, plan.source, plan.mark);
    });
    hbone = createInboundServer(ctx, ops, {
      ...(plan.localIps ? { localIps: plan.localIps } : {}),
      ...(plan.mark !== undefined ? { mark: plan.mark } : {}),
    });
    hbone.on('clientError', (err) =>
      ctx.logger.debug({ err: err.message }, 'inbound HBONE connection refused'),
    );
    const inbound = await listen(plan.addresses.inbound);
    const server = hbone;
    inbound.on('connection', (socket: net.Socket) => server.handle(socket));
    const plaintext = await listen(plan.addresses.inboundPlaintext);
    plaintext.on('connection', (socket: net.Socket) => {
      downstream.add(socket);
      handlePlaintextInbound(ctx, ops, socket, {
        ...(plan.localIps ? { localIps: plan.localIps } : {}),
        ...(plan.mark !== undefined ? { mark: plan.mark } : {}),
      });
    });
    const port = (s: net.Server) => (s.address() as AddressInfo).port;
    let closing: Promise<void> | undefined;
    return {
      ports: { outbound: port(outbound), inbound: port(inbound), inboundPlaintext: port(plaintext) },
      close: (drainMs = 5000) => (closing ??= closeAll(drainMs)),
    };
  } catch (err) {
    await closeAll(0);
    throw err;
  }
}
