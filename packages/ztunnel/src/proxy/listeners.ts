// The three listening sockets of one proxy set (outbound, inbound HBONE, inbound plaintext),
// created by the set's socket ops, each accepted socket passed on with the kind of its listener.
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ListenerKind } from './proxy-handlers.js';
import type { SocketOps } from './socket-ops.js';

export type ListenAddresses = Readonly<
  Record<ListenerKind, { readonly host: string; readonly port: number }>
>;

export interface ListenerSet {
  readonly ports: Record<ListenerKind, number>;
  /** Stops accepting (open connections are not touched). */
  close(): void;
}

export const DEFAULT_PORTS = { outbound: 15001, inbound: 15008, inboundPlaintext: 15006 } as const;

/**
 * Accept queue of every proxy listener (capped by net.core.somaxconn, 4096 by default). With the
 * usual 511, a burst of connections on a busy node overflowed it: the kernel answered with SYN
 * cookies, the client believed it was connected, and its first data met a reset (the soak
 * benchmark lost 1,266 of 10,000 connections that way).
 */
export const LISTEN_BACKLOG = 4096;

/** In-pod addresses: REDIRECT in OUTPUT sends to 127.0.0.1; REDIRECT in PREROUTING to the pod's address. */
export function podAddresses(ports?: Partial<Record<ListenerKind, number>>): ListenAddresses {
  const p = { ...DEFAULT_PORTS, ...ports };
  return {
    outbound: { host: '127.0.0.1', port: p.outbound },
    inbound: { host: '0.0.0.0', port: p.inbound },
    inboundPlaintext: { host: '0.0.0.0', port: p.inboundPlaintext },
  };
}

export async function openListeners(
  ops: SocketOps,
  addresses: ListenAddresses,
  opts: { readonly transparent: boolean; readonly pauseOnConnect?: boolean },
  onConnection: (kind: ListenerKind, socket: net.Socket) => void,
): Promise<ListenerSet> {
  const servers: net.Server[] = [];
  const close = () => {
    for (const s of servers) s.close();
  };
  try {
    const ports = {} as Record<ListenerKind, number>;
    for (const kind of ['outbound', 'inbound', 'inboundPlaintext'] as const) {
      const server = await ops.listen({
        ...addresses[kind],
        backlog: LISTEN_BACKLOG,
        ...(opts.transparent ? { transparent: true } : {}),
        ...(opts.pauseOnConnect ? { pauseOnConnect: true } : {}),
      });
      servers.push(server);
      server.on('connection', (socket: net.Socket) => onConnection(kind, socket));
      ports[kind] = (server.address() as AddressInfo).port;
    }
    return { ports, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** Listeners that, once closed, let the connections they handed over drain. */
export interface ServingSet {
  readonly ports: Record<ListenerKind, number>;
  /** Stops accepting, then `stop(drainMs)` (default 5 s); the same promise on every call. */
  close(drainMs?: number): Promise<void>;
}

/**
 * Opens the listeners and ties their close to `stop`, which ends what they handed over (and is
 * also called with 0 when a listener cannot be opened).
 */
export async function serveListeners(
  ops: SocketOps,
  addresses: ListenAddresses,
  opts: { readonly transparent: boolean; readonly pauseOnConnect?: boolean },
  onConnection: (kind: ListenerKind, socket: net.Socket) => void,
  stop: (drainMs: number) => Promise<void>,
): Promise<ServingSet> {
  let set: ListenerSet;
  try {
    set = await openListeners(ops, addresses, opts, onConnection);
  } catch (err) {
    await stop(0);
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    ports: set.ports,
    close: (drainMs = 5000) => {
      set.close();
      return (closing ??= stop(drainMs));
    },
  };
}
