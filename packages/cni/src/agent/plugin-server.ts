// The HTTP server on pluginevent.sock that the CNI plugin posts pod events to. Answers 200 when
// done, else an error status with a plain-text reason (the plugin puts it in its CNI error).
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Logger } from '@trellis/core';
import { ADD_PATH, CHECK_PATH, DEL_PATH, parsePodEvent } from '../plugin-events.pure.js';
import type { AgentMetrics } from './metrics.js';
import { RedirectError, type Redirector } from './redirector.js';

const MAX_BODY = 64 * 1024;

export async function startPluginServer(
  path: string,
  redirector: Redirector,
  ready: () => boolean,
  logger: Logger,
  metrics?: AgentMetrics,
): Promise<Server> {
  const server = createServer((req, res) => {
    const reply = (status: number, text: string) => {
      metrics?.pluginRequests.add(1, { response_code: String(status) });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
    };
    if (req.method === 'GET' && req.url === '/readyz') {
      res.writeHead(ready() ? 200 : 503).end(ready() ? 'ready\n' : 'not ready\n');
      return;
    }
    const route = { [ADD_PATH]: 'add', [DEL_PATH]: 'del', [CHECK_PATH]: 'check' }[req.url ?? ''];
    if (req.method !== 'POST' || !route) {
      reply(
        404,
        `unknown endpoint ${req.method} ${req.url}; POST ${ADD_PATH}, ${DEL_PATH} or ${CHECK_PATH}\n`,
      );
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
      if (body.length > MAX_BODY) req.destroy();
    });
    req.on('end', () => {
      let ev;
      try {
        ev = parsePodEvent(body, route !== 'del');
      } catch (err) {
        reply(400, `${(err as Error).message}\n`);
        return;
      }
      const op =
        route === 'add'
          ? redirector.cniAdd(ev)
          : route === 'del'
            ? redirector.cniDel(ev)
            : redirector.cniCheck(ev);
      op.then(
        () => reply(200, 'ok\n'),
        (err: Error) => {
          const status = err instanceof RedirectError ? err.status : 500;
          logger.warn(
            { pod: `${ev.podNamespace}/${ev.podName}`, op: route, err: err.message },
            'plugin event failed',
          );
          reply(status, `${err.message}\n`);
        },
      );
    });
  });
  rmSync(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return server;
}
