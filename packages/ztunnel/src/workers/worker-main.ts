// A ztunnel worker process (forked by the primary when --workers > 1): it carries the connections
// the primary accepted and handed over (TLS, HBONE, relaying) with its own HBONE client pool, a
// copy of the primary's state store, certificates from the primary, and its own metrics, which the
// primary asks for on each scrape (and which it pushes every second). Signals are ignored: the primary tells it when to drain and exit, and
// it exits when the primary goes away.
import { closeSync, openSync, readFileSync } from 'node:fs';
import type net from 'node:net';
import { createLogger, createMetricsRegistry, type Logger } from '@trellis/core';
import { parseTrustBundle } from '@trellis/pki';
import { loggerSink } from '../access-log/sink.js';
import { loadZtunnelConfig, processSource, PROGRAM } from '../config.js';
import type { WorkloadCertificate } from '../identity/identity-manager.js';
import { netnsSocketOps } from '../inpod/netns-socket-ops.js';
import { createTrafficMetrics } from '../metrics.js';
import { createZtunnelContext, type ZtunnelContext } from '../proxy/context.js';
import { podHandlers, allWorkloadsHandlers, type ProxyHandlers } from '../proxy/proxy-handlers.js';
import { createHostSocketOps } from '../proxy/socket-ops.js';
import { StateStore } from '../state/store.js';
import type { FromWorker, ToWorker } from './messages.js';
import { certificateFromMessage, remoteIdentityManager } from './remote-identity.js';

const METRICS_PUSH_MS = 1000;

const send = (m: FromWorker) => {
  // The primary can be gone before this side sees the disconnect (it exited at start-up on a bad
  // flag, say): the write then fails with EPIPE, which without a callback is an uncaught 'error'.
  // A worker has nothing to do without its primary: it leaves, as on 'disconnect'.
  if (process.connected)
    process.send!(m, undefined, undefined, (err) => {
      if (err) process.exit(0);
    });
};

function main(): void {
  if (!process.send)
    throw new Error('the ztunnel worker must be started by the primary (no IPC channel)');
  const config = loadZtunnelConfig(processSource());
  const log = createLogger({ name: PROGRAM, level: config.logLevel.level });
  for (const [scope, level] of Object.entries(config.logLevel.scopes))
    log.setScopeLevel(scope, level);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => {});
  process.on('disconnect', () => process.exit(0));

  const store = new StateStore({ network: config.network });
  const registry = createMetricsRegistry();
  const pending = new Map<
    number,
    { resolve(c: WorkloadCertificate): void; reject(e: Error): void }
  >();
  let nextId = 1;
  const identity = remoteIdentityManager({
    trustBundle: parseTrustBundle(readFileSync(config.caRootCert, 'utf8'), {
      trustDomain: config.trustDomain,
    }),
    request: (id) =>
      new Promise((resolve, reject) => {
        const reqId = nextId++;
        pending.set(reqId, { resolve, reject });
        send({ kind: 'cert-request', id: reqId, identity: id });
      }),
  });
  let ctx: ZtunnelContext | undefined;
  let logger: Logger = log.scope('worker');
  let primaryPid = process.ppid;
  const sets = new Map<string, { handlers: ProxyHandlers; fd?: number }>();

  const startSet = (m: Extract<ToWorker, { kind: 'set-start' }>, c: ZtunnelContext) => {
    if (sets.has(m.key)) return;
    if (m.pod && m.netnsFd !== undefined) {
      // Our own handle on the pod's netns, so the primary closing its fd cannot redirect us.
      const fd = openSync(`/proc/${primaryPid}/fd/${m.netnsFd}`, 'r');
      sets.set(m.key, { handlers: podHandlers(c, m.pod, netnsSocketOps(fd)), fd });
    } else {
      sets.set(m.key, {
        handlers: allWorkloadsHandlers(c, createHostSocketOps({ localAddressFallback: true })),
      });
    }
  };

  // Pushed every second as well as answered on each scrape: if this worker dies, the primary keeps
  // what it counted up to its last push.
  const pushMetrics = () => void registry.text().then((text) => send({ kind: 'metrics', text }));
  setInterval(pushMetrics, METRICS_PUSH_MS).unref();

  process.on('message', (m: ToWorker, handle?: net.Socket) => {
    switch (m.kind) {
      case 'init': {
        primaryPid = m.primaryPid;
        const bindings = { worker: m.index, pid: process.pid };
        logger = log.scope('worker').child(bindings);
        ctx = createZtunnelContext({
          store,
          identity,
          traffic: createTrafficMetrics(registry.meter('proxy')),
          accessLog: loggerSink(log.scope('access').child(bindings)),
          logger: log.scope('proxy').child(bindings),
          settings: {
            hbonePort: config.hbonePort,
            network: config.network,
            hboneIdleTimeoutMs: config.hboneIdleTimeout,
            // The primary hands connections to the workers in turn: each holds its share of the cap.
            maxHboneConnections: Math.ceil(config.maxHboneConnections / config.workers),
          },
          meter: registry.meter('hbone'),
        });
        return;
      }
      case 'state':
        store.apply(m.update);
        return;
      case 'set-start':
        if (!ctx) throw new Error('set-start before init');
        try {
          startSet(m, ctx);
        } catch (err) {
          logger.error(
            { key: m.key, err: (err as Error).message },
            'cannot serve this listener set',
          );
        }
        return;
      case 'conn': {
        const set = sets.get(m.key);
        if (!handle) return;
        if (!set) {
          logger.warn({ key: m.key }, 'a connection for a listener set this worker does not serve');
          handle.destroy();
          return;
        }
        handle.allowHalfOpen = true;
        set.handlers.handle(m.listener, handle);
        return;
      }
      case 'set-stop': {
        const set = sets.get(m.key);
        sets.delete(m.key);
        void (set ? set.handlers.close(m.drainMs) : Promise.resolve()).then(() => {
          if (set?.fd !== undefined) closeSync(set.fd);
          send({ kind: 'set-stopped', key: m.key });
        });
        return;
      }
      case 'cert': {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.cert) p?.resolve(certificateFromMessage(m.cert));
        else p?.reject(new Error(m.error ?? 'no certificate'));
        return;
      }
      case 'forget':
        identity.forget(m.identity);
        return;
      case 'scrape':
        void registry.text().then((text) => send({ kind: 'metrics', id: m.id, text }));
        return;
      case 'log-levels':
        log.setLevel(m.levels.level);
        for (const [scope, level] of Object.entries(m.levels.scopes))
          log.setScopeLevel(scope, level);
        return;
      case 'sync':
        send({ kind: 'ready' });
        pushMetrics();
        return;
      case 'exit':
        void (async () => {
          await Promise.all([...sets.values()].map((s) => s.handlers.close(0)));
          await ctx?.close();
          identity.close();
          await registry.close();
          process.exit(0);
        })();
        return;
    }
  });
  send({ kind: 'hello' });
}

try {
  main();
} catch (err) {
  process.stderr.write(`${PROGRAM} worker: ${(err as Error).message}\n`);
  process.exit(1);
}
