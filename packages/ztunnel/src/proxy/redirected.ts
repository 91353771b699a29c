// The two ends of a connection that iptables redirected to one of ztunnel's ports.
import type net from 'node:net';
import type { Logger } from '@trellis/core';
import { reset } from '@trellis/hbone';
import type { SocketOps } from './socket-ops.js';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/**
 * The peer and the original destination of an accepted, redirected socket. When the destination
 * cannot be read the socket is reset, the reason logged, and undefined returned.
 */
export function redirectedEnds(
  ops: SocketOps,
  socket: net.Socket,
  logger: Logger,
  listener: string,
): { src: Endpoint; dst: Endpoint } | undefined {
  socket.on('error', () => {});
  let dst: Endpoint;
  try {
    dst = ops.originalDst(socket);
  } catch (err) {
    logger.warn({ err: (err as Error).message }, `${listener}: no original destination`);
    reset(socket, err as Error);
    return undefined;
  }
  const src = {
    address: (socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
    port: socket.remotePort ?? 0,
  };
  return { src, dst };
}
