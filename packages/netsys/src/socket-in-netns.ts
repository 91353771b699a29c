// Creating a socket inside another network namespace. The addon enters the namespace on the
// calling thread, creates and configures the socket, and always returns to the original one.
import { addon } from './addon.js';

/** A network namespace: a path (/run/netns/<name>, /proc/<pid>/ns/net) or an open fd of one. */
export type NetnsRef = string | number;

export interface Endpoint {
  host: string;
  port: number;
}

/** Options set on the socket before it is bound, listens or connects. */
export interface SocketOptions {
  /** SO_MARK on every packet (needs CAP_NET_ADMIN). */
  mark?: number;
  /** IP_TRANSPARENT / IPV6_TRANSPARENT: bind non-local addresses, accept TPROXY traffic. */
  transparent?: boolean;
  /** SO_REUSEADDR. */
  reuseAddr?: boolean;
  /**
   * SO_REUSEPORT: several sockets (of one user) may bind the same address and port, the kernel
   * spreading connections and datagrams over them; when one closes, the others go on. What lets a
   * new ztunnel serve a pod while the old one drains. For a listener, also turns on
   * net.ipv4.tcp_migrate_req in its namespace: connections queued on a listener that closes (their
   * handshake done, not yet accepted) move to another of the group instead of being reset.
   */
  reusePort?: boolean;
  /** IPV6_V6ONLY (family 6 only); unset keeps the kernel default (dual-stack). */
  ipv6Only?: boolean;
}

export interface SocketInNetnsOptions extends SocketOptions {
  type: 'tcp' | 'udp';
  family: 4 | 6;
  /** Bind to this local address (a source address for outbound, or a UDP port). */
  bind?: Endpoint;
  /** TCP only: bind here and listen (backlog defaults to 511). Excludes bind and connect. */
  listen?: Endpoint & { backlog?: number };
  /** Start a non-blocking connect; the fd becomes writable when it completes. */
  connect?: Endpoint;
}

/**
 * Creates a socket inside the network namespace `netns` and returns its fd (non-blocking,
 * close-on-exec; the caller owns it). Throws a system error (code ENOENT, EINVAL, EADDRINUSE,
 * ...) naming the failed step; the calling thread is back in its own namespace either way.
 */
export function socketInNetns(netns: NetnsRef, options: SocketInNetnsOptions): number {
  return addon().socketInNetns(netns, options);
}
