// The original destination of a connection that iptables REDIRECTed to a local listener, and the
// file descriptor behind a Node socket (to pass to this package's functions).
import type * as net from 'node:net';
import { addon } from './addon.js';

export interface SocketAddress {
  address: string;
  port: number;
  family: 4 | 6;
}

/**
 * The pre-REDIRECT destination of an accepted socket (SO_ORIGINAL_DST, IP6T_SO_ORIGINAL_DST).
 * An IPv4 connection accepted on a dual-stack IPv6 socket gives family 4. Throws ENOENT when
 * conntrack has no entry for the connection.
 */
export function originalDst(fd: number): SocketAddress {
  return addon().originalDst(fd);
}

/**
 * originalDst, but undefined where conntrack has no entry for the connection (it was not
 * redirected): for callers that fall back to another address, without an exception per connection.
 */
export function trackedOriginalDst(fd: number): SocketAddress | undefined {
  return addon().originalDst(fd, true) ?? undefined;
}

/** The file descriptor of a connected net.Socket or a listening net.Server. */
export function fdOf(socket: net.Socket | net.Server): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new Error('fdOf: the socket has no file descriptor (not open yet, or already closed)');
  }
  return fd;
}
