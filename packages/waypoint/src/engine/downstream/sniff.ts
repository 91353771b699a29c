// Protocol detection on a fresh connection (HttpConnectionManager codec AUTO): the HTTP/2
// connection preface means h2c with prior knowledge (gRPC clients, h2c), anything else HTTP/1.1.
// The bytes read while deciding are handed to the chosen codec.
import type { Duplex } from 'node:stream';

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** 'http2' if `b` starts with the preface, 'http1' if it cannot, undefined if too short to tell. */
export function classify(b: Buffer): 'http1' | 'http2' | undefined {
  const n = Math.min(b.length, H2_PREFACE.length);
  if (b.subarray(0, n).equals(H2_PREFACE.subarray(0, n)))
    return n === H2_PREFACE.length ? 'http2' : undefined;
  return 'http1';
}

export function sniffHttp(
  socket: Duplex,
  done: (kind: 'http1' | 'http2', initial: Buffer | undefined) => void,
): void {
  let seen: Buffer | undefined;
  const finish = (kind: 'http1' | 'http2') => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
    const initial = seen;
    seen = undefined;
    done(kind, initial);
    socket.resume();
  };
  const onData = (d: Buffer) => {
    seen = seen ? Buffer.concat([seen, d]) : d;
    const kind = classify(seen);
    if (kind) finish(kind);
  };
  const onEnd = () => finish('http1');
  socket.on('data', onData);
  socket.on('end', onEnd);
}
