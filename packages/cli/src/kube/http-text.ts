// A plain HTTP request for a small text document (admin and metrics endpoints: GET, or a POST
// without a body such as /logging?level=debug), rejecting non-2xx answers with the status and the
// start of the body.
import { request } from 'node:http';

export interface HttpTextOptions {
  /** Default GET. */
  readonly method?: 'GET' | 'POST';
  /** Default 10 s. */
  readonly timeoutMs?: number;
}

/** The server answered, with a status that is not 2xx. */
export class HttpStatusError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

export function httpText(
  host: string,
  port: number,
  path: string,
  opts: HttpTextOptions = {},
): Promise<string> {
  const method = opts.method ?? 'GET';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    // No keep-alive: an idle pooled socket would hold a port-forward (and the process) open.
    const req = request({ host, port, path, method, timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status >= 300)
          reject(
            new HttpStatusError(
              `${method} ${path}: HTTP ${status}: ${text.slice(0, 200).trim()}`,
              status,
            ),
          );
        else resolve(text);
      });
    });
    req.on('timeout', () =>
      req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs / 1000}s`)),
    );
    req.on('error', reject);
    req.end();
  });
}
