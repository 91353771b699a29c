// A TCP port (optionally TLS): on the client's first bytes (or its end of input) the server writes
// its fields (fields.pure.ts tcpEchoFields), then echoes every byte back until the client closes.
// A connection is closed with a reset after 15 s, as upstream.
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { plainIp, tcpEchoFields } from '../fields.pure.js';
import type { EndpointContext } from './context.js';

const REQUEST_TIMEOUT_MS = 15_000;

export function tcpServer(ctx: EndpointContext, tls: boolean): Server {
  const onSocket = (socket: Socket) => echo(ctx, socket);
  if (tls) return createTlsServer({ cert: ctx.cert, key: ctx.key }, onSocket) as unknown as Server;
  return createTcpServer(onSocket);
}

function echo(ctx: EndpointContext, socket: Socket): void {
  ctx.reportRequest();
  const timer = setTimeout(() => socket.resetAndDestroy(), REQUEST_TIMEOUT_MS);
  let answered = false;
  const answerOnce = () => {
    if (answered) return;
    answered = true;
    socket.write(
      tcpEchoFields(ctx.identity, {
        port: socket.localPort ?? 0,
        ip: plainIp(socket.remoteAddress),
      }),
    );
  };
  socket.on('data', (chunk: Buffer) => {
    answerOnce();
    socket.write(chunk);
  });
  socket.on('end', () => {
    answerOnce();
    socket.end();
  });
  socket.on('close', () => clearTimeout(timer));
  socket.on('error', () => socket.destroy());
}
