// What happens to one accepted connection of a proxy set, apart from where it was accepted: the
// outbound (15001), inbound HBONE (15008) and inbound plaintext (15006) handlers of one pod (or of
// the all-workloads set), and their drain. The listeners that feed them live in this process
// (proxy-set.ts) or in the primary, which hands each accepted socket to a worker (workers/).
import type net from 'node:net';
import type { HboneServer } from '@trellis/hbone';
import { PodAddresses } from '../inpod/pod-addresses.js';
import { workloadSpiffeId } from '../state/model.js';
import { ConnectionSet } from './connection-set.js';
import { PolicyWatch } from './policy-watch.js';
import type { ZtunnelContext } from './context.js';
import { createInboundServer } from './inbound.js';
import { handlePlaintextInbound } from './inbound-plaintext.js';
import { handleOutbound, type OutboundSource } from './outbound.js';
import { ZTUNNEL_MARK, type SocketOps } from './socket-ops.js';

/** The pod as ZDS names it; its IPs come from its workload in the store (inpod/pod-addresses). */
export interface PodProxySpec {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
}

/** The three kinds of listener a proxy set has. */
export type ListenerKind = 'outbound' | 'inbound' | 'inboundPlaintext';
export const LISTENER_KINDS: readonly ListenerKind[] = ['outbound', 'inbound', 'inboundPlaintext'];

export interface ProxyHandlers {
  /** Serves a socket accepted on the listener of this kind. */
  handle(kind: ListenerKind, socket: net.Socket): void;
  /** Open downstream connections (outbound and plaintext) plus HBONE sessions. */
  readonly connections: number;
  /** Lets open connections finish up to `drainMs`, then cuts them; refuses new ones meanwhile. */
  close(drainMs: number): Promise<void>;
}

/** Handlers for one pod: its identity, its IPs (as its workload arrives), sockets from `ops` marked 0x539. */
export function podHandlers(ctx: ZtunnelContext, pod: PodProxySpec, ops: SocketOps): ProxyHandlers {
  const trustDomain = ctx.identity.trustBundle.trustDomain ?? 'cluster.local';
  const ownIdentity = `spiffe://${trustDomain}/ns/${pod.namespace}/sa/${pod.serviceAccount}`;
  const release = (ips: readonly string[]) => {
    for (const ip of ips) if (ctx.sourceSockets.get(ip)?.ops === ops) ctx.sourceSockets.delete(ip);
  };
  const addresses = new PodAddresses(ctx.store, pod, (before, after, workload) => {
    release(before.filter((ip) => !after.includes(ip)));
    for (const ip of after) ctx.sourceSockets.set(ip, { ops, mark: ZTUNNEL_MARK });
    ctx.logger.info(
      {
        uid: pod.uid,
        pod: `${pod.namespace}/${pod.name}`,
        workload: workload?.uid,
        ips: after,
      },
      'pod addresses',
    );
  });
  const ips = addresses.ips;
  return createHandlers(ctx, ops, {
    source: {
      workload: () => addresses.workload,
      identity: () => ownIdentity,
      bindIp: (srcIp) => (ips.includes(srcIp) ? srcIp : ips[0]),
    },
    localIps: ips,
    awaitLocal: (ip) => addresses.waitFor(ip),
    mark: ZTUNNEL_MARK,
    onClose: () => {
      addresses.close();
      release(ips);
    },
  });
}

/**
 * Handlers of the all-workloads (host netns) set: every workload in the store; the source workload of an
 * outbound connection is found by the client's address, no marks.
 */
export function allWorkloadsHandlers(ctx: ZtunnelContext, ops: SocketOps): ProxyHandlers {
  const lookup = { network: ctx.settings.network };
  return createHandlers(ctx, ops, {
    source: {
      workload: (ip) => ctx.store.workloadByAddr(ip, lookup),
      identity: (ip) => {
        const w = ctx.store.workloadByAddr(ip, lookup);
        return w ? workloadSpiffeId(w) : undefined;
      },
      bindIp: () => undefined,
    },
  });
}

interface HandlerPlan {
  readonly source: OutboundSource;
  readonly localIps?: readonly string[];
  readonly awaitLocal?: (ip: string) => Promise<boolean>;
  readonly mark?: number;
  readonly onClose?: () => void;
}

function createHandlers(ctx: ZtunnelContext, ops: SocketOps, plan: HandlerPlan): ProxyHandlers {
  const downstream = new ConnectionSet();
  const watch = new PolicyWatch(ctx.store, ctx.logger.child({ proxy: 'inbound' }));
  const local = {
    ...(plan.localIps ? { localIps: plan.localIps } : {}),
    ...(plan.awaitLocal ? { awaitLocal: plan.awaitLocal } : {}),
    ...(plan.mark !== undefined ? { mark: plan.mark } : {}),
    watch,
  };
  const hbone: HboneServer = createInboundServer(ctx, ops, local);
  hbone.on('clientError', (err) =>
    ctx.logger.debug({ err: err.message }, 'inbound HBONE connection refused'),
  );
  let closing: Promise<void> | undefined;
  return {
    handle(kind, socket) {
      if (closing) {
        socket.destroy();
        return;
      }
      switch (kind) {
        case 'outbound':
          downstream.add(socket);
          return handleOutbound(ctx, ops, socket, plan.source, plan.mark);
        case 'inbound':
          return hbone.handle(socket);
        case 'inboundPlaintext':
          downstream.add(socket);
          return handlePlaintextInbound(ctx, ops, socket, local);
      }
    },
    get connections() {
      return downstream.size + hbone.connections;
    },
    close(drainMs) {
      watch.stop();
      closing ??= Promise.all([hbone.close({ drainMs }), downstream.drain(drainMs)]).then(() =>
        plan.onClose?.(),
      );
      return closing;
    },
  };
}
