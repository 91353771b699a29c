#!/usr/bin/env node
// A small HTTP echo app for local clusters (image trellis/echo:dev): answers every request with
// JSON naming the pod that served it. PORT (default 8080) and POD_NAME/POD_NAMESPACE/POD_IP env.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.end('ok\n');
    return;
  }
  const body = JSON.stringify({
    pod: process.env.POD_NAME ?? process.env.HOSTNAME,
    namespace: process.env.POD_NAMESPACE,
    ip: process.env.POD_IP,
    node: process.env.NODE_NAME,
    method: req.method,
    path: req.url,
    remoteIP: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
    remotePort: req.socket.remotePort,
    headers: req.headers,
  });
  res.setHeader('content-type', 'application/json');
  res.end(body + '\n');
});
server.listen(port, () => console.log(`echo listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
