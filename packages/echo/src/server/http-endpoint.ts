// An HTTP port: HTTP/1.1 and h2c (prior knowledge) on the same plaintext port, told apart by the
// HTTP/2 connection preface; with TLS, h2 and HTTP/1.1 by ALPN. Every request is answered with
// the echo body (fields.pure.ts), honouring ?codes=, ?headers= and ?delay=.
import {
  createServer as createHttp1Server,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import {
  createServer as createH2cServer,
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { httpEchoBody, plainIp } from '../fields.pure.js';
import { answerContentType, queryOptions } from '../query-options.pure.js';
import type { EndpointContext } from './context.js';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const IDLE_TIMEOUT_MS = 5000;

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

export function httpServer(ctx: EndpointContext, tls: boolean): Server {
  const handler = (req: Request, res: Response) => void answer(ctx, req, res);
  if (tls) {
    const server = createSecureServer(
      {
        cert: ctx.cert,
        key: ctx.key,
        allowHTTP1: true,
        ALPNProtocols: ctx.disableAlpn ? [] : ['h2', 'http/1.1', 'http/1.0'],
      },
      handler,
    );
    server.setTimeout(0);
    return server as unknown as Server;
  }
  const h1 = createHttp1Server(handler);
  h1.keepAliveTimeout = IDLE_TIMEOUT_MS;
  const h2 = createH2cServer(handler);
  return createTcpServer((socket) => {
    sniffPreface(socket, (isH2) => {
      // The HTTP/2 session reads what is buffered itself; the HTTP/1 parser needs the flow back.
      (isH2 ? h2 : h1).emit('connection', socket);
      if (!isH2) socket.resume();
    });
  });
}

/** Reads until the bytes either are or cannot be the HTTP/2 preface, then hands the socket on. */
function sniffPreface(socket: Socket, decide: (isH2: boolean) => void): void {
  let seen = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, H2_PREFACE.length);
    const matches = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
    if (matches && n < H2_PREFACE.length) return;
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(seen);
    decide(matches);
  };
  const onEnd = () => socket.destroy();
  socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', () => socket.destroy());
}

async function answer(ctx: EndpointContext, req: Request, res: Response): Promise<void> {
  try {
    await echo(ctx, req, res);
  } catch (e) {
    ctx.log(`HTTP ${req.method} ${req.url}: ${(e as Error).message}`);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  }
}

async function echo(ctx: EndpointContext, req: Request, res: Response): Promise<void> {
  ctx.reportRequest();
  if (!ctx.isReady()) {
    res.writeHead(503);
    res.end();
    return;
  }
  const target = req.url ?? '/';
  const query = new URL(target, 'http://echo.invalid').searchParams;
  const opts = queryOptions(query, Math.random);
  if (opts.delayMs > 0) await new Promise((r) => setTimeout(r, opts.delayMs));
  for (const [k, v] of opts.headers) {
    try {
      res.setHeader(k, v);
    } catch (e) {
      opts.errors.push(`response headers error: ${(e as Error).message}`);
    }
  }
  const h2 = req.httpVersionMajor === 2;
  const socket = (h2 ? (req as Http2ServerRequest).stream.session?.socket : req.socket) as
    TLSSocket | Socket | undefined;
  const tlsSocket =
    socket && 'encrypted' in socket && socket.encrypted ? (socket as TLSSocket) : undefined;
  const headers: Array<[string, string]> = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (name.startsWith(':') || name.toLowerCase() === 'host') continue;
    headers.push([name, req.rawHeaders[i + 1]!]);
  }
  const body = httpEchoBody(
    ctx.identity,
    {
      port: socket?.localPort ?? 0,
      host:
        (h2 ? (req.headers[':authority'] as string | undefined) : undefined) ??
        req.headers.host ??
        '',
      requestUri: target,
      method: req.method ?? '',
      proto: `HTTP/${req.httpVersion}`,
      ip: plainIp(socket?.remoteAddress),
      alpn: tlsSocket ? tlsSocket.alpnProtocol || '' : undefined,
      sni: tlsSocket
        ? (tlsSocket as TLSSocket & { servername?: string | false }).servername || ''
        : undefined,
      headers,
    },
    opts.errors,
  );
  res.setHeader('Content-Type', answerContentType(req.httpVersionMajor, query));
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.writeHead(opts.status);
  res.end(body);
}
