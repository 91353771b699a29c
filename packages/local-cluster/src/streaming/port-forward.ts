// Port forwarding as the kubelet serves it. Over SPDY the client opens a pair of streams (error and
// data) per forwarded connection, tied by the requestID header; over WebSocket the request names
// its ports and each gets a (data, error) channel pair, both opened with the port number, and the
// connection closes when every port's connection has ended. Either way we connect to the port
// inside the pod's network namespace and copy both ways, half-closes included (a WebSocket client
// cannot half-close: its side ends with the connection). A failed connect is reported on the
// pair's error stream, then both streams are reset (SPDY) or closed (WebSocket).
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SpdyServerConnection, SpdyStream } from './spdy-connection.js';
import { RstStatus } from './spdy-frames.pure.js';
import { portForwardStream } from './stream-request.pure.js';
import type { WsChannelConnection } from './ws-channels.js';
import { portPrefix } from './ws-channels.pure.js';

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
      const { data, error } = pair;
      void forward(data, error, check.port, describe, connect, () => {
        data.reset();
        error.reset();
      });
    }
  });
  conn.on('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
  });
}

/** One WebSocket port-forward request: ports[i] on channels 2i (data) and 2i+1 (error). */
export function servePortForwardWs(
  conn: WsChannelConnection,
  ports: readonly number[],
  describe: string,
  connect: (port: number) => Promise<Socket>,
): void {
  let open = ports.length;
  const done = () => {
    if (--open === 0) conn.close();
  };
  ports.forEach((port, i) => {
    const data = conn.channel(2 * i);
    const error = conn.channel(2 * i + 1);
    data.write(portPrefix(port));
    error.write(portPrefix(port));
    data.on('error', () => undefined);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      done();
    };
    data.on('finish', finish);
    // The client went away: drop the pod connection too.
    conn.on('close', () => data.destroy());
    void forward(data, error, port, describe, connect, finish);
  });
}

async function forward(
  data: Duplex,
  error: Duplex,
  port: number,
  describe: string,
  connect: (port: number) => Promise<Socket>,
  abort: () => void,
): Promise<void> {
  error.resume();
  let socket: Socket;
  try {
    socket = await connect(port);
  } catch (e) {
    const msg = `error forwarding port ${port} to pod ${describe}: ${(e as Error).message}`;
    console.error(`port-forward: ${msg}`);
    error.write(msg, abort);
    return;
  }
  let failed = false;
  socket.on('error', (e) => {
    if (failed) return;
    failed = true;
    error.write(`error forwarding port ${port} to pod ${describe}: ${e.message}`, abort);
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
