// Graceful shutdown. On SIGTERM/SIGINT, or when shutdown() is called: every registered server
// stops accepting, open connections get until the drain deadline to finish by themselves, the
// rest are ended, then cleanup hooks run (last registered first). The returned promise resolves;
// the app decides whether to exit.
import type { Logger } from 'pino';
import { drainable, type Drainable, type DrainableServer } from './drain.js';

export interface LifecycleOptions {
  readonly logger: Logger;
  /** How long open connections may take to finish once shutdown starts. */
  readonly drainMs: number;
  /** Signals that start shutdown; default SIGTERM and SIGINT. [] handles none. */
  readonly signals?: readonly NodeJS.Signals[];
}

export interface Lifecycle {
  /** Drains `server` on shutdown. Register before it listens, so all its connections are tracked. */
  addServer(name: string, server: DrainableServer): void;
  /** Runs `hook` after the servers have drained; hooks run last-registered first. */
  onShutdown(name: string, hook: () => void | Promise<void>): void;
  /** Starts shutdown (once; later calls return the same promise). */
  shutdown(reason?: string): Promise<void>;
  /** Resolves when shutdown has finished. */
  readonly done: Promise<void>;
  readonly stopping: boolean;
}

export function createLifecycle(opts: LifecycleOptions): Lifecycle {
  const { logger, drainMs } = opts;
  if (!(drainMs >= 0)) throw new Error(`drainMs must be >= 0, got ${drainMs}`);
  const servers: { name: string; drain: Drainable }[] = [];
  const hooks: { name: string; hook: () => void | Promise<void> }[] = [];
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  let started = false;

  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) logger.warn({ signal }, 'already shutting down');
    void shutdown(`signal ${signal}`);
  };
  for (const signal of signals) process.on(signal, onSignal);

  async function run(reason: string): Promise<void> {
    const drains = servers.map(({ name, drain }) => {
      let ended = false;
      const promise = drain.drain().then(() => {
        ended = true;
      });
      return { name, drain, promise, ended: () => ended };
    });
    // Logged once no server accepts connections any more.
    logger.info({ reason, drainMs, servers: servers.map((s) => s.name) }, 'shutting down');

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>(
      (resolve) => (timer = setTimeout(() => resolve('deadline'), drainMs)),
    );
    const outcome = await Promise.race([Promise.all(drains.map((d) => d.promise)), deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      for (const d of drains) {
        if (d.ended()) continue;
        logger.warn(
          { server: d.name, connections: d.drain.openConnections() },
          'drain deadline passed; closing remaining connections',
        );
        d.drain.destroy();
      }
      await Promise.all(drains.map((d) => d.promise));
    }

    for (const { name, hook } of [...hooks].reverse()) {
      try {
        await hook();
      } catch (err) {
        logger.error({ hook: name, err }, 'shutdown hook failed');
      }
    }
    for (const signal of signals) process.off(signal, onSignal);
    logger.info('shutdown complete');
  }

  function shutdown(reason = 'requested'): Promise<void> {
    if (!started) {
      started = true;
      void run(reason).then(finished, (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        finished();
      });
    }
    return done;
  }

  return {
    addServer(name, server) {
      if (started) throw new Error(`cannot add server ${name}: shutdown has started`);
      servers.push({ name, drain: drainable(server) });
    },
    onShutdown(name, hook) {
      if (started) throw new Error(`cannot add shutdown hook ${name}: shutdown has started`);
      hooks.push({ name, hook });
    },
    shutdown,
    done,
    get stopping() {
      return started;
    },
  };
}
