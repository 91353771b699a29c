// Forwarding a query ztunnel does not answer to the upstream resolvers, in order: over UDP, again
// over TCP when the UDP answer is truncated (or when the client asked over TCP), the next
// resolver after a timeout or a failure. In-pod the sockets are made in the pod's netns with
// ztunnel's mark, so the pod's DNS capture lets them through and the resolver sees the pod's IP.
import type * as dgram from 'node:dgram';
import type * as net from 'node:net';
import { connectInNetns, udpSocketInNetns, type NetnsRef } from '@trellis/netsys';
import { responseHeader } from './message.js';
import { FrameReader, frame } from './tcp-frames.js';

export interface UpstreamSockets {
  /** An unconnected UDP socket to send from (the family of `host`). */
  udp(host: string): Promise<dgram.Socket>;
  tcp(host: string, port: number, signal: AbortSignal): Promise<net.Socket>;
}

/** Sockets inside `netns`, marked `mark`. */
export function netnsUpstreamSockets(netns: NetnsRef, mark: number): UpstreamSockets {
  return {
    udp: (host) =>
      udpSocketInNetns(netns, { host: host.includes(':') ? '::' : '0.0.0.0', port: 0, mark }),
    tcp: (host, port, signal) => connectInNetns(netns, { host, port, mark, signal }),
  };
}

export interface Nameserver {
  readonly host: string;
  readonly port: number;
}

export interface ForwardResult {
  readonly response: Buffer;
  readonly via: 'udp' | 'tcp';
  readonly nameserver: string;
}

export class Upstream {
  constructor(
    private readonly nameservers: readonly Nameserver[],
    private readonly sockets: UpstreamSockets,
    private readonly timeoutMs = 5000,
  ) {}

  /** The first upstream answer to `query` (its id is the client's); throws when none answered. */
  async forward(query: Uint8Array, opts: { tcp: boolean }): Promise<ForwardResult> {
    if (this.nameservers.length === 0) throw new Error('no upstream nameserver is configured');
    const failures: string[] = [];
    for (const ns of this.nameservers) {
      const where = ns.host.includes(':') ? `[${ns.host}]:${ns.port}` : `${ns.host}:${ns.port}`;
      try {
        if (!opts.tcp) {
          const response = await this.#udp(ns, query);
          if (!responseHeader(response)!.truncated)
            return { response, via: 'udp', nameserver: where };
        }
        return { response: await this.#tcp(ns, query), via: 'tcp', nameserver: where };
      } catch (err) {
        failures.push(`${where}: ${(err as Error).message}`);
      }
    }
    throw new Error(`no upstream nameserver answered (${failures.join('; ')})`);
  }

  async #udp(ns: Nameserver, query: Uint8Array): Promise<Buffer> {
    const socket = await this.sockets.udp(ns.host);
    const id = responseHeader(query)!.id;
    try {
      return await new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no UDP answer within ${this.timeoutMs} ms`)),
          this.timeoutMs,
        );
        socket.on('message', (msg, from) => {
          const h = responseHeader(msg);
          // Only the resolver's answer to this query counts (anything else could be spoofed).
          if (from.port !== ns.port || from.address !== ns.host) return;
          if (!h?.isResponse || h.id !== id) return;
          clearTimeout(timer);
          resolve(msg);
        });
        socket.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        socket.send(query, ns.port, ns.host);
      });
    } finally {
      socket.close();
    }
  }

  async #tcp(ns: Nameserver, query: Uint8Array): Promise<Buffer> {
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new Error(`no TCP answer within ${this.timeoutMs} ms`)),
      this.timeoutMs,
    );
    let socket: net.Socket | undefined;
    try {
      socket = await this.sockets.tcp(ns.host, ns.port, abort.signal);
      const s = socket;
      const id = responseHeader(query)!.id;
      return await new Promise<Buffer>((resolve, reject) => {
        const reader = new FrameReader();
        abort.signal.addEventListener('abort', () => reject(abort.signal.reason as Error));
        s.on('data', (chunk: Buffer) => {
          for (const msg of reader.push(chunk)) {
            const h = responseHeader(msg);
            if (h?.isResponse && h.id === id) resolve(msg);
          }
        });
        s.on('error', reject);
        s.on('close', () => reject(new Error('the connection closed before the answer')));
        s.write(frame(query));
      });
    } finally {
      clearTimeout(timer);
      socket?.destroy();
    }
  }
}
