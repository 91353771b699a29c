// Unix SOCK_SEQPACKET sockets carrying file descriptors (SCM_RIGHTS), one message per packet: the
// ZDS transport. These calls never block: "would block" is a return value. SeqpacketClient and
// SeqpacketServer drive them from the event loop.
import { addon } from './addon.js';

export interface SeqpacketMessage {
  data: Buffer;
  /** Descriptors received with the packet (close-on-exec); the receiver owns and closes them. */
  fds: number[];
}

/** Listens on a new socket file at `path` (which must not exist yet) and returns the fd. */
export function seqpacketListen(path: string, backlog = 128): number {
  return addon().seqpacketListen(path, backlog);
}

/** Accepts one waiting connection; null when none is waiting. */
export function seqpacketAccept(listenFd: number): number | null {
  return addon().seqpacketAccept(listenFd);
}

/** Connects to the listener at `path` and returns the fd (EAGAIN: its backlog is full). */
export function seqpacketConnect(path: string): number {
  return addon().seqpacketConnect(path);
}

/**
 * Sends one packet (not empty) with `fds` attached (duplicated by the kernel; the caller keeps its
 * own). False when the socket's buffer is full and nothing was sent.
 */
export function seqpacketSend(fd: number, data: Uint8Array, fds: number[] = []): boolean {
  return addon().seqpacketSend(fd, data, fds);
}

/** Receives one packet; 'again' when none is waiting, 'end' when the peer has closed. */
export function seqpacketRecv(fd: number): SeqpacketMessage | 'again' | 'end' {
  return addon().seqpacketRecv(fd);
}
