// The admin HTTP server (127.0.0.1:15000): /config_dump, /logging, /quitquitquit. Returned
// unstarted, so the lifecycle can track its connections before it listens.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Log } from '@trellis/core';
import type { StateStore } from '../state/store.js';
import { changeRefusal } from './change-guard.js';
import { configDump, type CertificateProvider } from './config-dump.js';
import { parseLoggingQuery } from './logging.js';
import { sendJson, sendText } from './respond.js';

export interface AdminOptions {
  readonly store: StateStore;
  readonly log: Log;
  /** Certificates for /config_dump; default none. */
  readonly certificates?: CertificateProvider;
  /** Settings shown in /config_dump under "config". */
  readonly config?: unknown;
  /** Called after the /quitquitquit response is sent; starts graceful shutdown. */
  readonly onQuit: () => void;
  /** Accept POST /logging and /quitquitquit from peers other than localhost. Default false. */
  readonly allowRemoteChanges?: boolean;
  readonly now?: () => number;
}

const ENDPOINTS: Record<string, string> = {
  '/config_dump': 'GET: workloads, services, policies, certificates and settings as JSON',
  '/logging':
    'GET: log levels; POST ?level=<level> or ?<scope>=<level> (or <scope>=default) changes them',
  '/quitquitquit': 'POST: drain and exit',
};

export function createAdminServer(opts: AdminOptions): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method === 'POST') {
      const refusal = changeRefusal(
        {
          method: req.method,
          path: url.pathname,
          peer: req.socket.remoteAddress,
          ...(req.headers.host !== undefined ? { host: req.headers.host } : {}),
          ...(req.headers.origin !== undefined ? { origin: req.headers.origin } : {}),
          ...(typeof req.headers['sec-fetch-site'] === 'string'
            ? { secFetchSite: req.headers['sec-fetch-site'] }
            : {}),
        },
        opts.allowRemoteChanges === true,
      );
      if (refusal) return sendText(res, 403, `${refusal}\n`);
    }
    switch (url.pathname) {
      case '/':
        return sendText(
          res,
          200,
          Object.entries(ENDPOINTS)
            .map(([p, d]) => `${p}\t${d}\n`)
            .join(''),
        );
      case '/config_dump': {
        if (req.method !== 'GET') return sendText(res, 405, 'use GET\n');
        const certs = opts.certificates ? await opts.certificates() : [];
        return sendJson(
          res,
          200,
          configDump(opts.store.dump(), certs, (opts.now ?? Date.now)(), opts.config),
        );
      }
      case '/logging':
        return logging(req, res, url.searchParams, opts.log);
      case '/quitquitquit':
        if (req.method !== 'POST') return sendText(res, 405, 'use POST\n');
        res.on('finish', () => opts.onQuit());
        return sendText(res, 200, 'shutting down\n');
      default:
        return sendText(res, 404, `not found; endpoints:\n${Object.keys(ENDPOINTS).join('\n')}\n`);
    }
  };
  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendText(res, 500, `${(err as Error).message}\n`);
      else res.destroy();
    });
  });
}

function logging(
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  log: Log,
): void {
  const changing = [...query.keys()].length > 0;
  if (req.method === 'GET' && !changing) return sendJson(res, 200, log.levels());
  if (req.method !== 'POST')
    return sendText(res, 405, 'use GET to list levels, POST to change them\n');
  const parsed = parseLoggingQuery(query, Object.keys(log.levels().scopes));
  if (!parsed.ok) return sendText(res, 400, `${parsed.error}\n`);
  if (parsed.changes.level) log.setLevel(parsed.changes.level);
  for (const [scope, level] of Object.entries(parsed.changes.scopes))
    log.setScopeLevel(scope, level);
  sendJson(res, 200, log.levels());
}
