// Node sockets whose file descriptors live in another network namespace: a net.Server listening
// there, a net.Socket connected from there, a dgram.Socket bound there.
import * as dgram from 'node:dgram';
import { closeSync } from 'node:fs';
import * as net from 'node:net';
import { addon } from './addon.js';
import { whenWritable } from './fd-wait.js';
import {
  socketInNetns,
  type Endpoint,
  type NetnsRef,
  type SocketOptions,
} from './socket-in-netns.js';
import { rememberUdpFd } from './udp-handover.js';

export interface ListenInNetnsOptions extends SocketOptions {
  host: string;
  port: number;
  /** Default 511. */
  backlog?: number;
}

export interface ConnectInNetnsOptions extends Omit<
  SocketOptions,
  'reuseAddr' | 'reusePort' | 'ipv6Only'
> {
  host: string;
  port: number;
  /** Local address to connect from (with `transparent`, it may be non-local). */
  bind?: Endpoint;
  /** Gives up waiting for the connect (the socket is closed). */
  signal?: AbortSignal;
}

export interface UdpInNetnsOptions extends SocketOptions {
  host: string;
  port: number;
}

function familyOf(fn: string, host: string): 4 | 6 {
  const family = net.isIP(host);
  if (family === 0) throw new TypeError(`${fn}: host '${host}' is not an IP address`);
  return family as 4 | 6;
}

function describe(netns: NetnsRef): string {
  return typeof netns === 'number' ? `fd ${netns}` : netns;
}

/**
 * Makes `server` listen on a socket created in `netns`. SO_REUSEADDR is on unless `reuseAddr` is
 * false, as for Node's own listeners.
 */
export async function listenInNetns(
  server: net.Server,
  netns: NetnsRef,
  options: ListenInNetnsOptions,
): Promise<void> {
  const { host, port, backlog, ...socketOptions } = options;
  const fd = socketInNetns(netns, {
    reuseAddr: true,
    ...socketOptions,
    type: 'tcp',
    family: familyOf('listenInNetns', host),
    listen: { host, port, backlog },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Node calls listen() on the fd again, with 511 unless told; for an fd it reads the backlog
    // only from the second argument (not from the options).
    server.listen({ fd }, backlog ?? 511, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Connects from inside `netns` and resolves with the connected socket. Rejects with the connect
 * error (ECONNREFUSED, ETIMEDOUT, ...) or the signal's reason.
 */
export async function connectInNetns(
  netns: NetnsRef,
  options: ConnectInNetnsOptions,
): Promise<net.Socket> {
  const { host, port, bind, signal, ...socketOptions } = options;
  const family = familyOf('connectInNetns', host);
  signal?.throwIfAborted();
  const fd = socketInNetns(netns, {
    ...socketOptions,
    type: 'tcp',
    family,
    bind,
    connect: { host, port },
  });
  try {
    await whenWritable(fd, signal);
    const target = family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
    addon().connectResult(fd, `connectInNetns(${describe(netns)}) to ${target}`);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return new net.Socket({ fd, readable: true, writable: true });
}

/** A UDP socket bound in `netns` (udp4 or udp6 after the host's family). */
export async function udpSocketInNetns(
  netns: NetnsRef,
  options: UdpInNetnsOptions,
): Promise<dgram.Socket> {
  const { host, port, ...socketOptions } = options;
  const family = familyOf('udpSocketInNetns', host);
  const fd = socketInNetns(netns, { ...socketOptions, type: 'udp', family, bind: { host, port } });
  const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ fd }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  rememberUdpFd(socket, fd);
  return socket;
}
