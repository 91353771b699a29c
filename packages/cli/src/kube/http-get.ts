// A plain HTTP GET of a small text document (admin and metrics endpoints), rejecting non-2xx
// answers with the status and the start of the body.
import { get } from 'node:http';

export function httpGetText(
  host: string,
  port: number,
  path: string,
  timeoutMs = 10_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host, port, path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300)
          reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
        else resolve(text);
      });
    });
    req.on('timeout', () =>
      req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs / 1000}s`)),
    );
    req.on('error', reject);
  });
}
