// POSTs one event to the agent over its unix socket, with a deadline for the whole exchange.
import { request } from 'node:http';
import type { PodEvent } from '../plugin-events.pure.js';

export function callAgent(
  socketPath: string,
  path: string,
  event: PodEvent,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(event);
    const timer = setTimeout(
      () => req.destroy(new Error(`trellis-cni-agent did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const req = request(
      {
        socketPath,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          clearTimeout(timer);
          if (res.statusCode === 200) resolve();
          else reject(new Error(`trellis-cni-agent: ${text.trim() || `HTTP ${res.statusCode}`}`));
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
          ? new Error(`trellis-cni-agent is not running (${err.code} on ${socketPath})`)
          : err,
      );
    });
    req.end(body);
  });
}
