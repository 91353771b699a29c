// The admin server (127.0.0.1:15000, loopback clients only): /config_dump (the accepted Envoy
// resources, per-type versions and NACKs, the certificate, JWKS fetches), /clusters (hosts, health,
// ejections, circuit-breaker counters), /stats/prometheus, /logging, /quitquitquit.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SECRET_TYPE_URL,
} from '@trellis/api';
import { checkLogLevel, type Log } from '@trellis/core';
import type { Engine } from '../engine/engine.js';
import { clustersDump } from '../engine/upstream/cluster-stats.js';
import type { XdsConfig } from '../engine/xds-config.js';
import { fromLoopback, reply } from './http-util.js';

export interface AdminOptions {
  readonly engine: Engine;
  readonly xds: () => XdsConfig | undefined;
  readonly log: Log;
  /** Node id, identity, settings: shown under "bootstrap". */
  readonly bootstrap: () => unknown;
  readonly metricsText: () => Promise<string>;
  readonly onQuit: () => void;
}

const HELP: Record<string, string> = {
  '/config_dump':
    'GET: accepted listeners, routes, clusters, endpoints, secrets (keys redacted); xDS versions and NACKs; certificate',
  '/clusters':
    'GET: hosts of every cluster with health, outlier ejections, connections and counters',
  '/stats/prometheus': 'GET: the metrics of 15020',
  '/logging': 'GET: log levels; POST ?level=<level> or ?<scope>=<level|default>',
  '/quitquitquit': 'POST: drain and exit',
};

export function createAdminServer(o: AdminOptions): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!fromLoopback(req))
      return reply(res, 403, 'the admin port answers loopback clients only\n');
    const url = new URL(req.url ?? '/', 'http://admin');
    const get = req.method === 'GET' || req.method === 'HEAD';
    switch (url.pathname) {
      case '/':
        return reply(
          res,
          200,
          Object.entries(HELP)
            .map(([p, d]) => `${p}\t${d}\n`)
            .join(''),
        );
      case '/config_dump': {
        if (!get) return reply(res, 405, 'use GET\n');
        const x = o.xds();
        return reply(res, 200, {
          bootstrap: o.bootstrap(),
          xds: x?.status() ?? [],
          listeners: x?.dump(LISTENER_TYPE_URL) ?? [],
          routes: x?.dump(ROUTE_CONFIGURATION_TYPE_URL) ?? [],
          clusters: x?.dump(CLUSTER_TYPE_URL) ?? [],
          endpoints: x?.dump(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL) ?? [],
          secrets: x?.dump(SECRET_TYPE_URL) ?? [],
          jwks: o.engine.jwks.status(),
        });
      }
      case '/clusters':
        if (!get) return reply(res, 405, 'use GET\n');
        return reply(res, 200, clustersDump(o.engine.clusters()));
      case '/stats/prometheus':
        if (!get) return reply(res, 405, 'use GET\n');
        return reply(res, 200, await o.metricsText(), 'text/plain; version=0.0.4');
      case '/logging':
        return logging(req, res, url.searchParams, o.log);
      case '/quitquitquit':
        if (req.method !== 'POST') return reply(res, 405, 'use POST\n');
        res.on('finish', () => o.onQuit());
        return reply(res, 200, 'draining, then exiting\n');
      default:
        return reply(res, 404, `not found; endpoints:\n${Object.keys(HELP).join('\n')}\n`);
    }
  };
  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, `${(err as Error).message}\n`);
      else res.destroy();
    });
  });
}

/** GET lists levels; POST applies every change or none (one bad entry changes nothing). */
function logging(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, log: Log): void {
  if (req.method === 'GET' && [...q.keys()].length === 0) return reply(res, 200, log.levels());
  if (req.method !== 'POST') return reply(res, 405, 'GET lists the levels, POST changes them\n');
  const apply: (() => void)[] = [];
  for (const [key, value] of q) {
    if (key === 'level') {
      let level;
      try {
        level = checkLogLevel(value);
      } catch (err) {
        return reply(res, 400, `level: ${(err as Error).message}\n`);
      }
      apply.push(() => log.setLevel(level));
      continue;
    }
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(key))
      return reply(res, 400, `invalid scope name ${JSON.stringify(key)}\n`);
    if (value === 'default') {
      apply.push(() => log.setScopeLevel(key, null));
      continue;
    }
    try {
      const level = checkLogLevel(value);
      apply.push(() => log.setScopeLevel(key, level));
    } catch (err) {
      return reply(res, 400, `${key}: ${(err as Error).message}\n`);
    }
  }
  for (const f of apply) f();
  reply(res, 200, log.levels());
}
