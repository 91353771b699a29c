// Plain HTTP/1.0 GETs and POSTs to servers inside a network namespace (a ztunnel's admin, metrics
// and readiness ports bind to addresses only that namespace has), from the test process.
import { connectInNetns } from '@trellis/netsys';

export interface HttpResult {
  status: number;
  body: string;
}

/** One request over a socket created in `netns` (a path such as /run/netns/x). */
export async function httpInNetns(
  netns: string,
  host: string,
  port: number,
  path: string,
  method: 'GET' | 'POST' = 'GET',
): Promise<HttpResult> {
  const socket = await connectInNetns(netns, { host, port });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!status) {
        reject(
          new Error(`${method} http://${host}:${port}${path} in ${netns}: no HTTP status line`),
        );
        return;
      }
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(status[1]), body: split < 0 ? '' : text.slice(split + 4) });
    });
    socket.end(`${method} ${path} HTTP/1.0\r\nHost: ${host}:${port}\r\nContent-Length: 0\r\n\r\n`);
  });
}
