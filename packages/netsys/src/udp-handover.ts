// Handing a UDP port over between SO_REUSEPORT sockets without losing datagrams (a rolling update:
// the new process binds beside the old one). Closing a socket drops what the kernel had queued for
// it, and until it closes it keeps getting its share of new datagrams. So the old socket first
// leaves the group (leaveReusePortGroup: new datagrams go to the others), then reads what it had
// queued (queuedDatagram says when that is done), then closes. Sockets from udpSocketInNetns only.
import type * as dgram from 'node:dgram';
import { addon } from './addon.js';

const fds = new WeakMap<dgram.Socket, number>();

/** Records the descriptor of a socket made here (Node does not expose a dgram socket's). */
export function rememberUdpFd(socket: dgram.Socket, fd: number): void {
  fds.set(socket, fd);
  socket.once('close', () => fds.delete(socket));
}

function fdOfUdp(fn: string, socket: dgram.Socket): number {
  const fd = fds.get(socket);
  if (fd === undefined)
    throw new Error(`${fn}: the socket was not made by udpSocketInNetns, or is closed`);
  return fd;
}

/**
 * The socket stops getting new datagrams of its SO_REUSEPORT group (the group's other sockets
 * get them; with none, the port refuses them). It still reads what it had queued and can still
 * send to any address.
 */
export function leaveReusePortGroup(socket: dgram.Socket): void {
  addon().udpLeaveReusePort(fdOfUdp('leaveReusePortGroup', socket));
}

/** The size of the next datagram queued on the socket, not yet read (0: none). */
export function queuedDatagram(socket: dgram.Socket): number {
  return addon().udpQueued(fdOfUdp('queuedDatagram', socket));
}
