// A @grpc/grpc-js server fed from our own TCP listener (grpc-js's connection injector), so that
// shutdown can end every connection: grpc-js's tryShutdown waits, and forceShutdown cannot help,
// for a connection that opened TCP and never finished (or began) its TLS handshake: it is no
// session yet, and its http2 server's close() waits for it. Here the listener tracks each socket,
// so at the drain deadline every one of them is destroyed and nothing outlives shutdown.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Drainable, GrpcServerLike } from './drain.js';

/** The parts of a @grpc/grpc-js Server used here (core does not depend on grpc-js). */
export interface InjectableGrpcServer extends GrpcServerLike {
  createConnectionInjector(credentials: never): { injectConnection(connection: Duplex): void };
}

export interface GrpcListener extends Drainable {
  /** The port listened on. */
  readonly port: number;
  /**
   * Stops accepting, lets calls in flight finish for up to `drainMs`, then ends every connection
   * (TLS handshakes included). Resolves when all are gone; the same promise on every call.
   */
  close(drainMs: number): Promise<void>;
}

/**
 * Serves `server` with `credentials` (ServerCredentials of the same grpc-js) on host:port ('' or
 * '0.0.0.0' every IPv4 interface, '::' every interface; port 0 picks one). Rejects with the
 * listen error, e.g. EADDRINUSE.
 */
export async function listenGrpc<S extends InjectableGrpcServer>(
  server: S,
  credentials: Parameters<S['createConnectionInjector']>[0],
  at: { readonly host: string; readonly port: number },
): Promise<GrpcListener> {
  const injector = server.createConnectionInjector(credentials);
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    injector.injectConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ host: at.host === '' ? '0.0.0.0' : at.host, port: at.port }, () => {
      tcp.off('error', reject);
      resolve();
    });
  });

  const allClosed = () =>
    Promise.all(
      [...sockets].map((s) => (s.destroyed ? undefined : new Promise((r) => s.once('close', r)))),
    ).then(() => undefined);
  let draining: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  const listener: GrpcListener = {
    port: (tcp.address() as net.AddressInfo).port,
    drain() {
      draining ??= (async () => {
        tcp.close();
        // GOAWAY to every session; resolves once their calls are done and they closed.
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        // Connections that never became a session end only when told to (destroy) or by the
        // TLS handshake timeout.
        await allClosed();
      })();
      return draining;
    },
    destroy() {
      server.forceShutdown();
      for (const socket of sockets) socket.destroy();
    },
    openConnections: () => sockets.size,
    close(drainMs) {
      closing ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'deadline'>((resolve) => {
          timer = setTimeout(() => resolve('deadline'), drainMs);
        });
        const outcome = await Promise.race([listener.drain(), deadline]);
        clearTimeout(timer);
        if (outcome === 'deadline') listener.destroy();
        await allClosed();
      })();
      return closing;
    },
  };
  return listener;
}
