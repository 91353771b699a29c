// Small pieces of the waypoint's HTTP endpoints (admin, metrics, readiness): answering, listening on
// a host:port setting, the loopback check of the admin port.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostPort } from '@trellis/core';

export function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  type = 'text/plain; charset=utf-8',
): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'content-type': typeof body === 'string' ? type : 'application/json' });
  res.end(text);
}

export function startServer(server: Server, at: HostPort): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: at.host === '' ? undefined : at.host, port: at.port }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function fromLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? '';
  return a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1' || a.startsWith('127.');
}
