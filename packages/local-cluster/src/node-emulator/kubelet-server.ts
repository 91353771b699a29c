// The emulator's kubelet API on <nodeIP>:10250 (HTTPS), so the apiserver's proxying works as with
// a real kubelet: /containerLogs (kubectl logs), /exec and /attach (SPDY/3.1 remote command
// protocols v4..v1, or WebSocket channel.k8s.io v5/v4/v1, binary or base64), /portForward (SPDY
// portforward.k8s.io, or WebSocket v4.channel.k8s.io) and /healthz. Every request is
// authenticated (client certificate from the cluster CA, or a bearer token) and authorized with a
// SubjectAccessReview, as a kubelet in webhook mode does.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { existsSync, readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { parseLogRequest, tailLines } from './log-query.pure.js';
import type { KubeletAuth } from './kubelet-auth.js';
import { SpdyServerConnection } from '../streaming/spdy-connection.js';
import { serveRemoteCommand, type CommandStreams } from '../streaming/remote-command.js';
import { serveRemoteCommandWs } from '../streaming/remote-command.js';
import { servePortForward, servePortForwardWs } from '../streaming/port-forward.js';
import { WsChannelConnection, type ChannelMode } from '../streaming/ws-channels.js';
import {
  negotiateWsProtocol,
  webSocketPorts,
  WS_PORT_FORWARD_PROTOCOLS,
  WS_REMOTE_COMMAND_PROTOCOLS,
} from '../streaming/ws-channels.pure.js';
import { WebSocketServer } from 'ws';
import {
  negotiateProtocol,
  parseStreamRequest,
  PORT_FORWARD_PROTOCOL,
  REMOTE_COMMAND_PROTOCOLS,
  type CommandOutcome,
  type StreamRequest,
} from '../streaming/stream-request.pure.js';

export type Lookup<T> = T | { error: string; status: number };

export interface ContainerHandle {
  exec(command: string[], io: CommandStreams): Promise<CommandOutcome>;
  attach(io: CommandStreams): Promise<CommandOutcome>;
}

export interface PodHandle {
  /** "<namespace>/<name>, uid <uid>" for messages. */
  describe: string;
  /** A TCP connection to localhost:port inside the pod's network namespace. */
  connect(port: number): Promise<Socket>;
}

export interface KubeletBackend {
  /** The log file of a container of a pod on this node, or a reason it has none. */
  logFile(
    namespace: string,
    pod: string,
    container: string,
    previous: boolean,
  ): Lookup<{ file: string }>;
  container(
    namespace: string,
    pod: string,
    container: string,
    uid?: string,
  ): Lookup<ContainerHandle>;
  pod(namespace: string, pod: string, uid?: string): Lookup<PodHandle>;
}

const failed = <T extends object>(x: Lookup<T>): x is { error: string; status: number } =>
  'error' in x && 'status' in x;

export function startKubeletServer(o: {
  ip: string;
  port: number;
  certFile: string;
  keyFile: string;
  caFile: string;
  auth: KubeletAuth;
  backend: KubeletBackend;
}): Promise<Server> {
  const server = createServer(
    {
      cert: readFileSync(o.certFile),
      key: readFileSync(o.keyFile),
      ca: readFileSync(o.caFile),
      // Certificates are verified, but a caller without one may still present a bearer token.
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      void o.auth.check(req).then((a) => {
        if (!a.ok) {
          res.writeHead(a.status, { 'content-type': 'text/plain' }).end(`${a.message}\n`);
          return;
        }
        serveRequest(req, res, o.backend);
      });
    },
  );
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    void o.auth.check(req).then((a) => {
      if (!a.ok) {
        rawResponse(socket, a.status, a.message);
        return;
      }
      serveUpgrade(req, socket as Socket, head, o.backend);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.ip, () => resolve(server));
  });
}

function serveRequest(req: IncomingMessage, res: ServerResponse, backend: KubeletBackend): void {
  const path = new URL(req.url ?? '/', 'https://kubelet').pathname;
  if (path === '/healthz') {
    res.end('ok');
    return;
  }
  if (parseStreamRequest(req.url ?? '/')) {
    res
      .writeHead(400, { 'content-type': 'text/plain' })
      .end('this endpoint needs a protocol upgrade (SPDY/3.1)\n');
    return;
  }
  const q = req.method === 'GET' ? parseLogRequest(req.url ?? '/') : undefined;
  if (!q) {
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end(
        'the trellis node emulator serves /containerLogs, /exec, /attach, /portForward and /healthz\n',
      );
    return;
  }
  const found = backend.logFile(q.namespace, q.pod, q.container, q.previous);
  if (failed(found)) {
    res.writeHead(found.status, { 'content-type': 'text/plain' }).end(`${found.error}\n`);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  let text = existsSync(found.file) ? readFileSync(found.file, 'utf8') : '';
  let offset = Buffer.byteLength(text);
  text = tailLines(text, q.tailLines);
  if (q.limitBytes !== undefined) text = Buffer.from(text).subarray(0, q.limitBytes).toString();
  res.write(text);
  if (!q.follow) {
    res.end();
    return;
  }
  const timer = setInterval(() => {
    if (!existsSync(found.file)) return;
    const size = statSync(found.file).size;
    if (size <= offset) return;
    const fd = openSync(found.file, 'r');
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    closeSync(fd);
    offset = size;
    res.write(buf);
  }, 250);
  res.on('close', () => clearInterval(timer));
}

function serveUpgrade(
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  backend: KubeletBackend,
): void {
  const r = parseStreamRequest(req.url ?? '/');
  if (!r) {
    rawResponse(socket, 404, `no streaming endpoint at ${req.url}`);
    return;
  }
  if ('error' in r) {
    rawResponse(socket, 400, r.error);
    return;
  }
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  if (upgrade === 'websocket') {
    serveWebSocket(req, socket, head, r, backend);
    return;
  }
  if (!upgrade.includes('spdy/3.1')) {
    rawResponse(
      socket,
      400,
      `unable to upgrade: unsupported protocol upgrade "${upgrade}" (SPDY/3.1 or websocket)`,
    );
    return;
  }
  const offered = req.headers['x-stream-protocol-version'];
  const supported = r.kind === 'portForward' ? [PORT_FORWARD_PROTOCOL] : REMOTE_COMMAND_PROTOCOLS;
  const protocol = negotiateProtocol(offered, supported);
  if (!protocol) {
    rawResponse(
      socket,
      403,
      `unable to upgrade: unable to negotiate protocol: client supports [${String(offered ?? '')}], server accepts [${supported.join(' ')}]`,
      { 'X-Accepted-Stream-Protocol-Versions': supported.join(', ') },
    );
    return;
  }
  if (r.kind === 'portForward') {
    const pod = backend.pod(r.namespace, r.pod, r.uid);
    if (failed(pod)) {
      rawResponse(socket, pod.status, pod.error);
      return;
    }
    const conn = accept(socket, head, protocol);
    servePortForward(conn, pod.describe, (port) => pod.connect(port));
    return;
  }
  const c = backend.container(r.namespace, r.pod, r.container, r.uid);
  if (failed(c)) {
    rawResponse(socket, c.status, c.error);
    return;
  }
  const conn = accept(socket, head, protocol);
  void serveRemoteCommand(conn, protocol, r.options, r.command, (io) =>
    r.kind === 'exec' ? c.exec(r.command, io) : c.attach(io),
  );
}

// ws would answer Sec-WebSocket-Protocol with the client's first offer: answer the negotiated one.
const negotiated = new WeakMap<IncomingMessage, string>();
const wsServer = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  handleProtocols: (_offered, req) => negotiated.get(req) || false,
});

/** The WebSocket side of /exec, /attach and /portForward, as the kubelet's wsstream serves it. */
function serveWebSocket(
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  r: StreamRequest,
  backend: KubeletBackend,
): void {
  const supported =
    r.kind === 'portForward' ? WS_PORT_FORWARD_PROTOCOLS : WS_REMOTE_COMMAND_PROTOCOLS;
  const offered = req.headers['sec-websocket-protocol'];
  const protocol = negotiateWsProtocol(offered, supported);
  if (protocol === undefined) {
    rawResponse(
      socket,
      403,
      `unable to upgrade websocket connection: requested protocol(s) are not supported: [${offered}]; supports [${supported.filter(Boolean).join(' ')}]`,
    );
    return;
  }
  let modes: ChannelMode[];
  let start: (conn: WsChannelConnection) => void;
  if (r.kind === 'portForward') {
    const ports = webSocketPorts(req.url ?? '/');
    if ('error' in ports) return rawResponse(socket, 400, ports.error);
    const pod = backend.pod(r.namespace, r.pod, r.uid);
    if (failed(pod)) return rawResponse(socket, pod.status, pod.error);
    modes = ports.flatMap((): ChannelMode[] => ['rw', 'w']);
    start = (conn) => servePortForwardWs(conn, ports, pod.describe, (p) => pod.connect(p));
  } else {
    const c = backend.container(r.namespace, r.pod, r.container, r.uid);
    if (failed(c)) return rawResponse(socket, c.status, c.error);
    const o = r.options;
    modes = [o.stdin ? 'r' : '', o.stdout ? 'w' : '', o.stderr ? 'w' : '', 'w', 'r'];
    start = (conn) =>
      void serveRemoteCommandWs(conn, protocol, o, r.command, (io) =>
        r.kind === 'exec' ? c.exec(r.command, io) : c.attach(io),
      );
  }
  negotiated.set(req, protocol);
  wsServer.handleUpgrade(req, socket, head, (ws) => {
    start(new WsChannelConnection(ws, protocol, modes));
  });
}

function accept(socket: Socket, head: Buffer, protocol: string): SpdyServerConnection {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Connection: Upgrade\r\n' +
      'Upgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  const conn = new SpdyServerConnection(socket);
  conn.start(head);
  return conn;
}

function rawResponse(
  socket: Duplex,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const reason: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    500: 'Internal Server Error',
  };
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason[status] ?? 'Error'}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
