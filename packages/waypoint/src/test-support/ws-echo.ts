// A real WebSocket app (the `ws` package) for upgrade tests: echoes each text message as
// "echo: <text>", answers 400 to an upgrade on /reject, and keeps its server-side sockets and the
// heads of the upgrade requests it saw so tests can close from the server side and check headers.
import http from 'node:http';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';

export interface WsEcho {
  /** Server-side sockets, in the order the upgrades were accepted. */
  readonly sockets: WebSocket[];
  readonly heads: http.IncomingHttpHeaders[];
}

export async function wsEcho(t: TestContext, ip: string, port: number): Promise<WsEcho> {
  const sockets: WebSocket[] = [];
  const heads: http.IncomingHttpHeaders[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer((_req, res) => res.end('not a websocket request\n'));
  server.on('upgrade', (req: http.IncomingMessage, socket, head: Buffer) => {
    heads.push(req.headers);
    if (req.url === '/reject') {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 13\r\n\r\nno websocket\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      ws.on('message', (data: Buffer) => ws.send(`echo: ${data.toString()}`));
    });
  });
  server.listen(port, ip);
  await once(server, 'listening');
  t.after(() => {
    for (const ws of sockets) ws.terminate();
    wss.close();
    server.close();
  });
  return { sockets, heads };
}

export interface WsClient {
  readonly ws: WebSocket;
  /** The status and headers of the 101. */
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The next message received, as text. */
  next(): Promise<string>;
  /** Resolves with the close code once the connection is closed. */
  readonly closed: Promise<number>;
}

/** Opens a WebSocket; rejects with the status and body when the answer is not a 101. */
export function wsConnect(url: string, headers: Record<string, string> = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const inbox: string[] = [];
    const waiting: ((s: string) => void)[] = [];
    ws.on('message', (d: Buffer) => {
      const w = waiting.shift();
      if (w) w(d.toString());
      else inbox.push(d.toString());
    });
    const closed = new Promise<number>((r) => ws.on('close', (code: number) => r(code)));
    let upgrade: http.IncomingMessage | undefined;
    ws.on('upgrade', (res: http.IncomingMessage) => (upgrade = res));
    ws.on('unexpected-response', (_req, res: http.IncomingMessage) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject(new WsRefused(res.statusCode ?? 0, body)));
    });
    ws.on('error', (err) => reject(err));
    ws.on('open', () =>
      resolve({
        ws,
        status: upgrade?.statusCode ?? 0,
        headers: upgrade?.headers ?? {},
        next: () =>
          inbox.length > 0
            ? Promise.resolve(inbox.shift()!)
            : new Promise<string>((r) => waiting.push(r)),
        closed,
      }),
    );
  });
}

export class WsRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`the upgrade was answered ${status}: ${body}`);
  }
}
