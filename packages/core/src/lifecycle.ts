// Graceful shutdown. On SIGTERM/SIGINT, or when shutdown() is called: every registered server
// stops accepting, open connections get until the drain deadline to finish by themselves, the
// rest are ended, then cleanup hooks run (last registered first), each told how much of the drain
// time is left. Nothing waits past the deadline for long: what does not close within a second of
// being forced, and a hook that has not finished a second after the deadline, is logged and left
// behind. The returned promise resolves; the app decides whether to exit.
import type { Logger } from 'pino';
import { drainable, type Drainable, type DrainableServer } from './drain.js';

/** How long, after the deadline, forced closes and late hooks are still waited for. */
export const FORCE_GRACE_MS = 1000;

/** What a shutdown hook is told: the time left until the drain deadline (0 once it passed). */
export interface ShutdownContext {
  remainingMs(): number;
}

export interface LifecycleOptions {
  readonly logger: Logger;
  /** How long open connections may take to finish once shutdown starts. */
  readonly drainMs: number;
  /** Signals that start shutdown; default SIGTERM and SIGINT. [] handles none. */
  readonly signals?: readonly NodeJS.Signals[];
}

export interface Lifecycle {
  /**
   * Drains `server` on shutdown: a net.Server (register it before it listens, so all its
   * connections are tracked), a grpc-js Server, or anything Drainable (e.g. core's listenGrpc).
   */
  addServer(name: string, server: DrainableServer | Drainable): void;
  /**
   * Runs `hook` after the servers have drained; hooks run last-registered first. A hook that is
   * still running a second after the drain deadline is logged and no longer waited for.
   */
  onShutdown(name: string, hook: (context: ShutdownContext) => void | Promise<void>): void;
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
  const hooks: { name: string; hook: (context: ShutdownContext) => void | Promise<void> }[] = [];
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
    const deadlineAt = Date.now() + drainMs;
    const context: ShutdownContext = { remainingMs: () => Math.max(0, deadlineAt - Date.now()) };
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
      const forced = await within(Promise.all(drains.map((d) => d.promise)), FORCE_GRACE_MS);
      if (forced === 'late') {
        for (const d of drains.filter((x) => !x.ended()))
          logger.error(
            { server: d.name, connections: d.drain.openConnections() },
            'server still open after its connections were closed; not waiting for it',
          );
      }
    }

    for (const { name, hook } of [...hooks].reverse()) {
      try {
        const outcome = await within(
          Promise.resolve(hook(context)),
          context.remainingMs() + FORCE_GRACE_MS,
        );
        if (outcome === 'late')
          logger.error(
            { hook: name },
            'shutdown hook still running after the drain deadline; going on',
          );
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
      servers.push({ name, drain: isDrainable(server) ? server : drainable(server) });
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

function isDrainable(server: DrainableServer | Drainable): server is Drainable {
  const d = server as Drainable;
  return (
    typeof d.drain === 'function' &&
    typeof d.destroy === 'function' &&
    typeof d.openConnections === 'function'
  );
}

/** Waits for `promise` at most `ms`; 'late' when it had not settled by then (it is left running). */
async function within<T>(promise: Promise<T>, ms: number): Promise<'done' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  try {
    return await Promise.race([promise.then(() => 'done' as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
