// A minimal kubelet HTTPS endpoint on <nodeIP>:10250 so `kubectl logs` works through the
// apiserver: /healthz and /containerLogs (with follow, previous, tailLines, limitBytes). Clients
// must present a certificate from the cluster CA (the apiserver's kubelet-client certificate).
// exec, attach and port-forward are not served.
import { createServer, type Server } from 'node:https';
import { existsSync, readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { parseLogRequest, tailLines } from './log-query.pure.js';

export interface LogSource {
  /** The log file of a container of a pod on this node, or a reason it has none. */
  logFile(
    namespace: string,
    pod: string,
    container: string,
    previous: boolean,
  ): { file: string } | { error: string; status: number };
}

export function startKubeletServer(o: {
  ip: string;
  port: number;
  certFile: string;
  keyFile: string;
  caFile: string;
  logs: LogSource;
}): Promise<Server> {
  const server = createServer(
    {
      cert: readFileSync(o.certFile),
      key: readFileSync(o.keyFile),
      ca: readFileSync(o.caFile),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      if (req.url === '/healthz') {
        res.end('ok');
        return;
      }
      const q = req.method === 'GET' ? parseLogRequest(req.url ?? '/') : undefined;
      if (!q) {
        res
          .writeHead(404, { 'content-type': 'text/plain' })
          .end('the trellis node emulator serves only /containerLogs and /healthz\n');
        return;
      }
      const found = o.logs.logFile(q.namespace, q.pod, q.container, q.previous);
      if ('error' in found) {
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
    },
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.ip, () => resolve(server));
  });
}
