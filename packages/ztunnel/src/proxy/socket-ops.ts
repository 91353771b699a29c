// How a proxy set makes its sockets. `hostSocketOps` works in ztunnel's own network namespace with
// node:net (plus netsys for SO_MARK, IP_TRANSPARENT and SO_ORIGINAL_DST); the in-pod manager
// provides ops that open sockets inside a pod's namespace. Tests on loopback use
// `mappedDestinationOpsForTest`, the only ops whose original destination is not the kernel's.
import net from 'node:net';
import {
  connectInNetns,
  fdOf,
  listenInNetns,
  originalDst,
  trackedOriginalDst,
} from '@trellis/netsys';

/** How a proxy set creates its sockets: in the host netns (node:net) or inside a pod netns (netsys). */
export interface SocketOps {
  /**
   * A listening server on host:port; `transparent` sets IP_TRANSPARENT, `mark` sets SO_MARK;
   * `pauseOnConnect` leaves accepted sockets unread (to hand them to another process).
   */
  listen(opts: ListenOptions): Promise<net.Server>;
  /** A connected TCP socket; `bindIp` is the local address; `mark` is SO_MARK (0x539 for ztunnel's own sockets). */
  connect(opts: {
    host: string;
    port: number;
    bindIp?: string;
    mark?: number;
    signal?: AbortSignal;
  }): Promise<net.Socket>;
  /** The original destination of an accepted, redirected socket (SO_ORIGINAL_DST), or its local address. */
  originalDst(socket: net.Socket): { address: string; port: number };
}

export interface ListenOptions {
  host: string;
  port: number;
  /** Accept queue length (the kernel caps it at net.core.somaxconn); default 511. */
  backlog?: number;
  transparent?: boolean;
  mark?: number;
  pauseOnConnect?: boolean;
}

/** SO_MARK on ztunnel's own sockets inside a pod netns, so the pod's iptables rules skip them. */
export const ZTUNNEL_MARK = 0x539;

export interface HostSocketOpsOptions {
  /**
   * When SO_ORIGINAL_DST has no answer (ENOENT: the connection was not redirected), use the
   * socket's local address instead of failing. Right for listeners that clients reach directly.
   */
  readonly localAddressFallback?: boolean;
}

// This process's own network namespace, for sockets that need options node:net cannot set
// before bind/connect (SO_MARK, IP_TRANSPARENT): netsys creates them there.
const OWN_NETNS = '/proc/self/ns/net';

/** node:net sockets in this process's network namespace (netsys when a mark or transparency is asked). */
export function createHostSocketOps(opts: HostSocketOpsOptions = {}): SocketOps {
  return {
    async listen({ host, port, backlog, transparent, mark, pauseOnConnect }) {
      const server = net.createServer({
        allowHalfOpen: true,
        noDelay: true,
        pauseOnConnect: pauseOnConnect === true,
      });
      if (transparent || mark !== undefined) {
        await listenInNetns(server, OWN_NETNS, {
          host,
          port,
          ...(backlog !== undefined ? { backlog } : {}),
          ...(transparent ? { transparent } : {}),
          ...(mark !== undefined ? { mark } : {}),
        });
        return server;
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port, ...(backlog !== undefined ? { backlog } : {}) }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return server;
    },
    async connect({ host, port, bindIp, mark, signal }) {
      if (mark !== undefined) {
        const socket = await connectInNetns(OWN_NETNS, {
          host,
          port,
          mark,
          ...(bindIp ? { bind: { host: bindIp, port: 0 } } : {}),
          ...(signal ? { signal } : {}),
        });
        socket.allowHalfOpen = true;
        socket.setNoDelay(true);
        return socket;
      }
      return new Promise((resolve, reject) => {
        signal?.throwIfAborted();
        const socket = net.connect({
          host,
          port,
          allowHalfOpen: true,
          noDelay: true,
          ...(bindIp ? { localAddress: bindIp } : {}),
          ...(signal ? { signal } : {}),
        });
        socket.once('error', reject);
        socket.once('connect', () => {
          socket.off('error', reject);
          resolve(socket);
        });
      });
    },
    originalDst(socket) {
      if (!opts.localAddressFallback) {
        const dst = originalDst(fdOf(socket));
        return { address: dst.address, port: dst.port };
      }
      const dst = trackedOriginalDst(fdOf(socket));
      return dst ? { address: dst.address, port: dst.port } : localEndpoint(socket);
    },
  };
}

/** Host-namespace ops for connections iptables redirected (no fallback: a missing entry is an error). */
export const hostSocketOps: SocketOps = createHostSocketOps();

/**
 * FOR TESTS ONLY: host ops whose original destination is whatever `destinationOf` returns for an
 * accepted socket (e.g. chosen by the client's source port), because loopback tests have no
 * iptables REDIRECT. Production code never constructs this.
 */
export function mappedDestinationOpsForTest(
  destinationOf: (socket: net.Socket) => { address: string; port: number } | undefined,
): SocketOps {
  const base = createHostSocketOps();
  return {
    listen: base.listen,
    connect: base.connect,
    originalDst: (socket) => destinationOf(socket) ?? localEndpoint(socket),
  };
}

function localEndpoint(socket: net.Socket): { address: string; port: number } {
  if (socket.localAddress === undefined || socket.localPort === undefined)
    throw new Error('originalDst: the socket is not connected');
  return { address: socket.localAddress.replace(/^::ffff:/, ''), port: socket.localPort };
}
