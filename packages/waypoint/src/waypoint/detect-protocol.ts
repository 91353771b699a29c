// Protocol detection for a tunnel whose target has both an HTTP and a TCP filter chain (Envoy's
// http_inspector in front of Istio's waypoint `direct-http` / `direct-tcp` chains for
// workload-addressed traffic): the first bytes decide. The HTTP/2 preface is h2c, an HTTP/1.x
// request line is http/1.1, anything else is TCP; a client that sends nothing within the timeout
// (a server-first protocol) is TCP. The bytes read are handed to the chosen chain.
import type { Duplex } from 'node:stream';
import { H2_PREFACE } from '../engine/downstream/sniff.js';

export type AppProtocol = 'h2c' | 'http/1.1' | 'tcp';

/** The application protocols an HTTP chain's `filter_chain_match.application_protocols` names. */
export const HTTP_APP_PROTOCOLS = ['http/1.1', 'h2c'] as const;

/** Longest request line looked at before calling it TCP. */
const MAX_LINE = 8192;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The protocol of a stream starting with `b`, or undefined when more bytes are needed. Pure. */
export function classifyAppProtocol(b: Buffer): AppProtocol | undefined {
  const n = Math.min(b.length, H2_PREFACE.length);
  if (b.subarray(0, n).equals(H2_PREFACE.subarray(0, n)))
    return n === H2_PREFACE.length ? 'h2c' : undefined;
  const eol = b.indexOf('\r\n');
  const line = b.subarray(0, eol === -1 ? Math.min(b.length, MAX_LINE) : eol).toString('latin1');
  const sp = line.indexOf(' ');
  const method = sp === -1 ? line : line.slice(0, sp);
  if (!TOKEN.test(method) && method !== '') return 'tcp';
  if (eol === -1) return b.length >= MAX_LINE ? 'tcp' : undefined;
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ \S+ HTTP\/1\.[01]$/.test(line) ? 'http/1.1' : 'tcp';
}

/**
 * Reads from `socket` until the protocol is known (or `timeoutMs` passes with too little to
 * tell: TCP) and calls `done` once with the bytes read, the socket paused. The socket's end also
 * decides (TCP).
 */
export function detectAppProtocol(
  socket: Duplex,
  timeoutMs: number,
  done: (p: AppProtocol, initial: Buffer | undefined) => void,
): void {
  let seen: Buffer | undefined;
  let finished = false;
  const finish = (p: AppProtocol) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
    done(p, seen);
  };
  const onData = (d: Buffer) => {
    seen = seen ? Buffer.concat([seen, d]) : d;
    const p = classifyAppProtocol(seen);
    if (p) finish(p);
  };
  const onEnd = () => finish('tcp');
  const timer = setTimeout(() => finish('tcp'), timeoutMs);
  socket.on('data', onData);
  socket.on('end', onEnd);
}
