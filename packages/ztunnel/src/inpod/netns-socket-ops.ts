// SocketOps whose sockets live inside one pod's network namespace (netsys creates them there with
// setns and hands the fds to Node).
import net from 'node:net';
import { connectInNetns, fdOf, listenInNetns, originalDst, type NetnsRef } from '@trellis/netsys';
import type { SocketOps } from '../proxy/socket-ops.js';

/**
 * Ops for the pod whose netns is `netns` (an open fd, e.g. received over ZDS, or a path). The fd
 * must stay open while the ops are in use; the caller closes it.
 */
export function netnsSocketOps(netns: NetnsRef): SocketOps {
  return {
    async listen({ host, port, backlog, transparent, mark, pauseOnConnect }) {
      const server = net.createServer({
        allowHalfOpen: true,
        noDelay: true,
        pauseOnConnect: pauseOnConnect === true,
      });
      await listenInNetns(server, netns, {
        host,
        port,
        // A new ztunnel binds the pod's ports while the old one still drains (an upgrade).
        reusePort: true,
        ...(backlog !== undefined ? { backlog } : {}),
        ...(transparent ? { transparent: true } : {}),
        ...(mark !== undefined ? { mark } : {}),
      });
      return server;
    },
    async connect({ host, port, bindIp, mark, signal }) {
      const socket = await connectInNetns(netns, {
        host,
        port,
        // A non-local source (the peer's address, for inbound connections) needs IP_TRANSPARENT.
        ...(bindIp !== undefined ? { bind: { host: bindIp, port: 0 }, transparent: true } : {}),
        ...(mark !== undefined ? { mark } : {}),
        ...(signal ? { signal } : {}),
      });
      // As the host ops: an app's FIN ends one direction only (the client may still be sending).
      socket.allowHalfOpen = true;
      socket.setNoDelay(true);
      return socket;
    },
    originalDst(socket) {
      const dst = originalDst(fdOf(socket));
      return { address: dst.address, port: dst.port };
    },
  };
}
