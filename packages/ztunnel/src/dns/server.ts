// The DNS proxy of one pod: UDP and TCP on 127.0.0.1:15053 (and [::1]:15053 when the pod has
// IPv6) inside the pod's netns, where the in-pod rules redirect its port-53 traffic. A query for
// a mesh service is answered from the state store; any other is forwarded upstream; a malformed
// one gets FORMERR (or nothing, without a readable header). UDP answers larger than the client
// takes are truncated (TC) so it asks again over TCP.
import type * as dgram from 'node:dgram';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@trellis/core';
import {
  leaveReusePortGroup,
  listenInNetns,
  queuedDatagram,
  udpSocketInNetns,
  type NetnsRef,
} from '@trellis/netsys';
import { meshAnswer, type DnsClient, type MeshDnsOptions, type MeshView } from './mesh-answer.js';
import {
  decodeQuery,
  encodeResponse,
  RCODE,
  truncateForUdp,
  udpLimit,
  UDP_MAX,
} from './message.js';
import { dnsLabels, type DnsMetrics } from './metrics.js';
import { FrameReader, frame } from './tcp-frames.js';
import type { Upstream } from './upstream.js';

export const DNS_PORT = 15053;
/** A TCP client that sends nothing for this long is disconnected. */
const TCP_IDLE_MS = 10_000;
/** How often a draining proxy looks whether it is done. */
const DRAIN_POLL_MS = 5;

export interface DnsContext {
  readonly view: MeshView;
  readonly client: DnsClient;
  readonly options: MeshDnsOptions;
  readonly upstream: Upstream;
  readonly logger: Logger;
  readonly metrics?: DnsMetrics;
}

/** The answer to one query as received over `protocol`; undefined: send nothing. */
export async function answerQuery(
  ctx: DnsContext,
  bytes: Uint8Array,
  protocol: 'udp' | 'tcp',
): Promise<Uint8Array | undefined> {
  const decoded = decodeQuery(bytes);
  ctx.metrics?.requests.add(
    1,
    dnsLabels(decoded.ok ? decoded.query.question.type : decoded.question?.type, protocol),
  );
  if (!decoded.ok) {
    ctx.logger.debug({ reason: decoded.reason, protocol }, 'malformed DNS query');
    if (decoded.id === undefined) return undefined;
    return encodeResponse({
      id: decoded.id,
      rcode: decoded.rcode,
      rd: decoded.rd,
      ...(decoded.question ? { question: decoded.question } : {}),
    });
  }
  const q = decoded.query;
  const limit = protocol === 'udp' ? udpLimit(q) : Infinity;
  const edns = q.ednsUdpSize !== undefined ? { ednsUdpSize: UDP_MAX } : {};
  const mesh = meshAnswer(ctx.view, q.question, ctx.client, ctx.options);
  const log = { name: q.question.name, type: q.question.type, protocol };
  if (mesh.kind === 'answer') {
    ctx.logger.debug(
      {
        ...log,
        service: `${mesh.service.namespace}/${mesh.service.hostname}`,
        records: mesh.answers.length,
      },
      'DNS answered from the mesh',
    );
    const response = encodeResponse({
      id: q.id,
      rcode: RCODE.NOERROR,
      rd: q.rd,
      cd: q.cd,
      aa: true,
      question: q.question,
      answers: mesh.answers,
      ...edns,
    });
    if (response.length <= limit) return response;
    return encodeResponse({
      id: q.id,
      rcode: RCODE.NOERROR,
      rd: q.rd,
      aa: true,
      tc: true,
      question: q.question,
      ...edns,
    });
  }
  const labels = dnsLabels(q.question.type, protocol);
  ctx.metrics?.upstreamRequests.add(1, labels);
  try {
    const r = await ctx.upstream.forward(bytes, { tcp: protocol === 'tcp' });
    ctx.logger.debug({ ...log, upstream: r.nameserver, via: r.via }, 'DNS forwarded');
    return protocol === 'udp' ? truncateForUdp(r.response, limit) : r.response;
  } catch (err) {
    ctx.metrics?.upstreamFailures.add(1, labels);
    ctx.logger.warn({ ...log, err: (err as Error).message }, 'DNS forwarding failed');
    return encodeResponse({
      id: q.id,
      rcode: RCODE.SERVFAIL,
      rd: q.rd,
      question: q.question,
      ...edns,
    });
  }
}

export interface PodDns {
  /**
   * Stops serving. With `drainMs`, first leaves the port's new queries to the other sockets on it
   * and answers what it already took or had queued, until none is left or `drainMs` passed: in a
   * rolling update the new ztunnel's sockets share the port (SO_REUSEPORT), and a query read but
   * not answered, or queued on a socket that closes, would be lost, the client waiting out its
   * resolver's timeout.
   */
  close(drainMs?: number): Promise<void>;
}

export interface PodDnsOptions {
  readonly netns: NetnsRef;
  /** Default 15053. */
  readonly port?: number;
}

/**
 * Serves `ctx` on UDP and TCP inside `netns`, with SO_REUSEPORT: a new ztunnel serves the pod
 * alongside the old one while that drains.
 */
export async function startPodDns(ctx: DnsContext, opts: PodDnsOptions): Promise<PodDns> {
  const port = opts.port ?? DNS_PORT;
  const udp: dgram.Socket[] = [];
  const tcp: net.Server[] = [];
  const conns = new Set<net.Socket>();
  const flight = { pending: 0, closed: false };
  // An answer is in flight until sent: dgram's send() completes later (it looks the address up).
  const answer = (msg: Buffer, via: 'udp' | 'tcp', send: (out: Uint8Array) => Promise<void>) => {
    flight.pending++;
    void answerQuery(ctx, msg, via)
      .then((out) => (out && !flight.closed ? send(out) : undefined))
      .finally(() => flight.pending--);
  };
  const queued = (s: dgram.Socket) => {
    try {
      return queuedDatagram(s) > 0;
    } catch {
      return false; // a socket the kernel no longer has: nothing waits on it
    }
  };
  /** True while a query this proxy took is unanswered or one waits in a UDP socket's queue. */
  const busy = () => flight.pending > 0 || udp.some(queued);
  let closing: Promise<void> | undefined;
  const close = (drainMs = 0) => (closing ??= stop(drainMs));
  const stop = async (drainMs: number) => {
    // No new TCP connections (the queued ones move to the new ztunnel's listener).
    const stopped = Promise.all(tcp.map((s) => new Promise((r) => s.close(r))));
    if (drainMs > 0) {
      try {
        // New datagrams go to the new ztunnel's sockets; the ones queued here are still read.
        for (const s of udp) leaveReusePortGroup(s);
      } catch (err) {
        ctx.logger.warn(
          { err: (err as Error).message },
          'a DNS UDP socket could not leave its SO_REUSEPORT group: what is queued on it at close is lost',
        );
      }
      const deadline = Date.now() + drainMs;
      while (busy() && Date.now() < deadline) await sleep(DRAIN_POLL_MS);
    }
    flight.closed = true;
    for (const s of udp) s.close();
    for (const c of conns) c.destroy();
    await stopped;
  };
  try {
    for (const host of ['127.0.0.1', '::1']) {
      let socket: dgram.Socket;
      try {
        socket = await udpSocketInNetns(opts.netns, { host, port, reusePort: true });
      } catch (err) {
        // A pod without IPv6 has no ::1.
        if (host === '::1' && (err as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') continue;
        throw err;
      }
      udp.push(socket);
      socket.on('message', (msg, from) =>
        answer(
          msg,
          'udp',
          (out) => new Promise((r) => socket.send(out, from.port, from.address, () => r())),
        ),
      );
      socket.on('error', (err) => ctx.logger.warn({ err: err.message }, 'DNS UDP socket error'));
      const server = net.createServer((conn) => serveTcp(conn, conns, answer));
      await listenInNetns(server, opts.netns, { host, port, reusePort: true });
      tcp.push(server);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { close };
}

function serveTcp(
  conn: net.Socket,
  conns: Set<net.Socket>,
  answer: (msg: Buffer, via: 'tcp', send: (out: Uint8Array) => Promise<void>) => void,
): void {
  conns.add(conn);
  const reader = new FrameReader();
  conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
  conn.on('data', (chunk: Buffer) => {
    for (const msg of reader.push(chunk))
      answer(msg, 'tcp', (out) =>
        conn.destroyed ? Promise.resolve() : new Promise((r) => conn.write(frame(out), () => r())),
      );
  });
  conn.on('error', () => conn.destroy());
  conn.on('close', () => conns.delete(conn));
}
