// Port forwarding over one SPDY connection, as the kubelet serves it: the client opens a pair of
// streams (error and data) per forwarded connection, tied by the requestID header; we connect to
// the port inside the pod's network namespace and copy both ways, half-closes included. A failed
// connect is reported on the pair's error stream and both streams are reset.
import type { Socket } from 'node:net';
import type { SpdyServerConnection, SpdyStream } from './spdy-connection.js';
import { RstStatus } from './spdy-frames.pure.js';
import { portForwardStream } from './stream-request.pure.js';

const PAIR_TIMEOUT_MS = 30_000;

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

export function servePortForward(
  conn: SpdyServerConnection,
  describe: string,
  connect: (port: number) => Promise<Socket>,
): void {
  const pairs = new Map<string, Pair>();
  conn.on('stream', (s) => {
    const check = portForwardStream(s.header('port'), s.header('streamType'));
    if ('error' in check) {
      console.error(`port-forward ${describe}: stream rejected: ${check.error}`);
      s.reset(RstStatus.ProtocolError);
      return;
    }
    s.on('error', () => undefined);
    // Clients that send no requestID pair streams by id: error n, data n+2.
    const requestID = s.header('requestID') ?? String(check.type === 'error' ? s.id : s.id - 2);
    let pair = pairs.get(requestID);
    if (!pair) {
      pair = {
        timer: setTimeout(() => {
          pairs.delete(requestID);
          const msg = `timed out waiting for streams of request ${requestID}`;
          pair!.error?.end(msg);
          pair!.data?.reset();
        }, PAIR_TIMEOUT_MS),
      };
      pairs.set(requestID, pair);
    }
    if (pair[check.type]) {
      s.reset(RstStatus.ProtocolError);
      return;
    }
    pair[check.type] = s;
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(requestID);
      void forward(pair.data, pair.error, check.port, describe, connect);
    }
  });
  conn.on('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
  });
}

async function forward(
  data: SpdyStream,
  error: SpdyStream,
  port: number,
  describe: string,
  connect: (port: number) => Promise<Socket>,
): Promise<void> {
  error.resume();
  let socket: Socket;
  try {
    socket = await connect(port);
  } catch (e) {
    const msg = `error forwarding port ${port} to pod ${describe}: ${(e as Error).message}`;
    console.error(`port-forward: ${msg}`);
    error.write(msg, () => {
      data.reset();
      error.reset();
    });
    return;
  }
  let failed = false;
  socket.on('error', (e) => {
    if (failed) return;
    failed = true;
    error.write(`error forwarding port ${port} to pod ${describe}: ${e.message}`, () => {
      data.reset();
      error.reset();
    });
  });
  data.on('close', () => {
    if (!socket.destroyed && !socket.writableEnded) socket.destroy();
  });
  // Client FIN -> half-close towards the pod; pod FIN -> FIN to the client; both -> done.
  data.pipe(socket);
  socket.pipe(data);
  socket.on('close', () => {
    if (!failed && !error.destroyed) error.end();
  });
}
