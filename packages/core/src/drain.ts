// Draining one server: stop accepting, let open connections finish, and end whatever is left
// when told to. Works for every net.Server (plain TCP, http, https, tls, http2) and for a
// @grpc/grpc-js Server.
import { ServerResponse, type Server as HttpServer } from 'node:http';
import type { Http2Session } from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';

/** The parts of a @grpc/grpc-js Server used here (core does not depend on grpc-js). */
export interface GrpcServerLike {
  tryShutdown(callback: (err?: Error) => void): void;
  forceShutdown(): void;
}

export type DrainableServer = NetServer | GrpcServerLike;

export interface Drainable {
  /** Stops accepting new connections; resolves when every open connection has ended. */
  drain(): Promise<void>;
  /** Ends every remaining connection now. */
  destroy(): void;
  /** Connections still open, when the server type lets us count them. */
  openConnections(): number | undefined;
}

function isGrpcServer(server: DrainableServer): server is GrpcServerLike {
  return typeof (server as GrpcServerLike).tryShutdown === 'function';
}

/**
 * Starts tracking `server`'s connections. Call it before the server accepts any: connections
 * accepted earlier are waited for but cannot be ended at the deadline.
 */
export function drainable(server: DrainableServer): Drainable {
  if (isGrpcServer(server)) {
    return {
      drain: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
      destroy: () => server.forceShutdown(),
      openConnections: () => undefined,
    };
  }

  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // HTTP/2 servers: a session is asked to finish with GOAWAY, so clients stop opening streams on
  // it while the streams in flight complete.
  const sessions = new Set<Http2Session>();
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });

  // HTTP/1.1 servers: close() ends idle keep-alive connections, but a connection busy with a
  // request would otherwise stay open (idle) after its response until keepAliveTimeout. So each
  // response from now on says "Connection: close", or, if its headers are already out, its
  // connection is closed once it is idle again.
  let draining = false;
  const responses = new Set<ServerResponse>();
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
    else
      res.once('finish', () => setImmediate(() => (server as HttpServer).closeIdleConnections()));
  };
  server.on('request', (_req: unknown, res: unknown) => {
    if (!(res instanceof ServerResponse)) return; // HTTP/2 compatibility responses
    responses.add(res);
    res.once('close', () => responses.delete(res));
    if (draining) closeAfter(res);
  });

  return {
    drain() {
      draining = true;
      // close() stops listening at once; its callback runs when the last connection has ended.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      for (const res of responses) closeAfter(res);
      return closed;
    },
    destroy() {
      for (const socket of sockets) socket.destroy();
    },
    openConnections: () => [...sockets].filter((socket) => !socket.destroyed).length,
  };
}
