// The primary's side of --workers N: it forks N worker processes, keeps each one's copy of the
// state store in step, answers their certificate requests from its identity manager, hands every
// accepted connection to one of them (round robin over the ready ones), scrapes their metrics,
// respawns a worker that dies, and on shutdown drains them.
import { fork, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { backoff, type LevelsSnapshot, type Logger } from '@trellis/core';
import type { Readiness } from '../admin/readiness.js';
import type { IdentityManager } from '../identity/identity-manager.js';
import type { ListenerKind, PodProxySpec } from '../proxy/proxy-handlers.js';
import type { StateStore } from '../state/store.js';
import type { FromWorker, ToWorker } from './messages.js';
import {
  mergeFamilies,
  monotonicFamilies,
  parsePrometheusText,
  formatPrometheusText,
  type Family,
} from './prometheus-merge.js';
import { changeUpdate, snapshotUpdate } from './state-forward.js';

// The worker program bundled as the primary is (tools/bundle.mjs), found from where the package is
// (its name resolves to dist/index.js), so the bundled primary (dist/trellis-ztunnel.mjs) finds it.
const WORKER_MAIN = join(
  dirname(createRequire(import.meta.url).resolve('@trellis/ztunnel')),
  'trellis-ztunnel-worker.mjs',
);
/** Connections waiting while no worker is ready (start-up, all respawning); more are refused. */
const MAX_WAITING = 4096;
/** How long a scrape waits for a worker before using its last pushed metrics. */
const SCRAPE_WAIT_MS = 1000;

export interface WorkerPoolOptions {
  readonly size: number;
  /** Arguments the workers load their settings from (the primary's own). */
  readonly argv: readonly string[];
  readonly store: StateStore;
  readonly identity: IdentityManager;
  readonly readiness: Readiness;
  readonly logger: Logger;
  /** The current log levels, sent to every worker when it starts. */
  readonly logLevels: () => LevelsSnapshot;
}

interface SetSpec {
  readonly pod?: PodProxySpec;
  readonly netnsFd?: number;
}

interface Slot {
  readonly index: number;
  child: ChildProcess;
  /** Has said hello: gets every state update and set change from then on. */
  connected: boolean;
  ready: boolean;
  /** Unblocks readiness once this worker is ready. */
  unblock?: () => void;
  /** Its latest metrics (Prometheus text), from a scrape or a push. */
  metrics?: string;
  readonly waits: Map<string, () => void>;
  readonly scrapes: Map<number, () => void>;
  startedAt: number;
}

export class WorkerPool {
  readonly #o: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  readonly #sets = new Map<string, SetSpec>();
  readonly #waiting: { key: string; listener: ListenerKind; socket: net.Socket }[] = [];
  readonly #respawn = backoff({ initialMs: 100, maxMs: 10_000 });
  /** Counters and histograms of workers that died, so sums never go down. */
  #retired: Family[] = [];
  #next = 0;
  #scrapeId = 1;
  #closing = false;
  readonly #unsubscribe: () => void;

  constructor(o: WorkerPoolOptions) {
    this.#o = o;
    for (let i = 0; i < o.size; i++) this.#slots.push(this.#spawn(i));
    this.#unsubscribe = o.store.subscribe((change) =>
      this.#broadcast({ kind: 'state', update: changeUpdate(o.store, change) }),
    );
  }

  /** pid of each worker, by index (for logs and tests). */
  get pids(): (number | undefined)[] {
    return this.#slots.map((s) => s.child.pid);
  }

  /** A listener set opened in the primary: workers get ready to serve its connections. */
  startSet(key: string, spec: SetSpec = {}): void {
    this.#sets.set(key, spec);
    this.#broadcast({ kind: 'set-start', key, ...spec });
  }

  /** Workers drain the set's connections (up to `drainMs`); resolves when all have. */
  async stopSet(key: string, drainMs: number): Promise<void> {
    this.#sets.delete(key);
    await Promise.all(
      this.#slots
        .filter((s) => s.connected)
        .map(
          (s) =>
            new Promise<void>((resolve) => {
              s.waits.set(key, resolve);
              this.#send(s, { kind: 'set-stop', key, drainMs });
            }),
        ),
    );
  }

  /** Hands an accepted (paused) socket to the next ready worker. */
  dispatch(key: string, listener: ListenerKind, socket: net.Socket): void {
    const ready = this.#slots.filter((s) => s.ready);
    if (ready.length === 0) {
      if (this.#closing || this.#waiting.length >= MAX_WAITING) socket.destroy();
      else this.#waiting.push({ key, listener, socket });
      return;
    }
    const slot = ready[this.#next++ % ready.length]!;
    socket.on('error', () => {});
    try {
      slot.child.send({ kind: 'conn', key, listener } satisfies ToWorker, socket, (err) => {
        if (err) socket.destroy();
      });
    } catch {
      socket.destroy();
    }
  }

  forget(identity: string): void {
    this.#broadcast({ kind: 'forget', identity });
  }

  logLevels(levels: LevelsSnapshot): void {
    this.#broadcast({ kind: 'log-levels', levels });
  }

  /**
   * Every worker's current metrics (a worker that does not answer within a second counts with its
   * last pushed ones), plus the counters and histograms of workers that died, so that sums never
   * go down (what a dead worker counted after its last push is lost).
   */
  async scrape(): Promise<string[]> {
    await Promise.all(
      this.#slots
        .filter((s) => s.connected)
        .map(
          (s) =>
            new Promise<void>((resolve) => {
              const id = this.#scrapeId++;
              const done = () => {
                clearTimeout(timer);
                s.scrapes.delete(id);
                resolve();
              };
              const timer = setTimeout(done, SCRAPE_WAIT_MS);
              s.scrapes.set(id, done);
              this.#send(s, { kind: 'scrape', id });
            }),
        ),
    );
    const live = this.#slots.map((s) => s.metrics).filter((t) => t !== undefined);
    return [formatPrometheusText(this.#retired), ...live];
  }

  /** Tells every worker to exit (after the sets were stopped) and waits for them. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#unsubscribe();
    for (const w of this.#waiting.splice(0)) w.socket.destroy();
    await Promise.all(
      this.#slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
            s.child.once('exit', () => resolve());
            const kill = setTimeout(() => s.child.kill('SIGKILL'), 5000);
            s.child.once('exit', () => clearTimeout(kill));
            this.#send(s, { kind: 'exit' });
          }),
      ),
    );
  }

  #spawn(index: number): Slot {
    const child = fork(WORKER_MAIN, [...this.#o.argv], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const slot: Slot = this.#slots[index] ?? {
      index,
      child,
      connected: false,
      ready: false,
      waits: new Map(),
      scrapes: new Map(),
      startedAt: Date.now(),
    };
    Object.assign(slot, { child, connected: false, ready: false, startedAt: Date.now() });
    slot.unblock ??= this.#o.readiness.block(`worker ${index}`);
    child.on('message', (m: FromWorker) => this.#onMessage(slot, m));
    child.on('error', (err) =>
      this.#o.logger.warn({ worker: index, err: err.message }, 'worker channel error'),
    );
    child.once('exit', (code, signal) => this.#onExit(slot, child, code, signal));
    this.#o.logger.info({ worker: index, pid: child.pid }, 'worker started');
    return slot;
  }

  #onMessage(slot: Slot, m: FromWorker): void {
    switch (m.kind) {
      case 'hello':
        slot.connected = true;
        this.#send(slot, { kind: 'init', index: slot.index, primaryPid: process.pid });
        this.#send(slot, { kind: 'log-levels', levels: this.#o.logLevels() });
        this.#send(slot, { kind: 'state', update: snapshotUpdate(this.#o.store) });
        for (const [key, spec] of this.#sets) this.#send(slot, { kind: 'set-start', key, ...spec });
        this.#send(slot, { kind: 'sync' });
        return;
      case 'ready':
        slot.ready = true;
        slot.unblock?.();
        slot.unblock = undefined;
        this.#respawn.reset();
        for (const w of this.#waiting.splice(0)) this.dispatch(w.key, w.listener, w.socket);
        return;
      case 'cert-request':
        this.#o.identity.fetch(m.identity).then(
          (c) =>
            this.#send(slot, {
              kind: 'cert',
              id: m.id,
              cert: {
                identity: c.identity,
                key: c.key,
                chain: c.chain,
                notBefore: c.notBefore.toISOString(),
                notAfter: c.notAfter.toISOString(),
              },
            }),
          (err: Error) => this.#send(slot, { kind: 'cert', id: m.id, error: err.message }),
        );
        return;
      case 'metrics':
        slot.metrics = m.text;
        if (m.id !== undefined) slot.scrapes.get(m.id)?.();
        return;
      case 'set-stopped':
        slot.waits.get(m.key)?.();
        slot.waits.delete(m.key);
        return;
    }
  }

  #onExit(
    slot: Slot,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (slot.child !== child) return;
    slot.connected = false;
    slot.ready = false;
    for (const done of slot.waits.values()) done();
    slot.waits.clear();
    for (const done of [...slot.scrapes.values()]) done();
    if (slot.metrics !== undefined) {
      this.#retired = mergeFamilies([
        this.#retired,
        monotonicFamilies(parsePrometheusText(slot.metrics)),
      ]);
      slot.metrics = undefined;
    }
    if (this.#closing) return;
    const delay = this.#respawn.next();
    this.#o.logger.error(
      { worker: slot.index, pid: child.pid, code, signal, respawnInMs: delay },
      'worker exited; respawning it',
    );
    slot.unblock ??= this.#o.readiness.block(`worker ${slot.index}`);
    setTimeout(() => {
      if (!this.#closing) this.#spawn(slot.index);
    }, delay);
  }

  #broadcast(m: ToWorker): void {
    for (const s of this.#slots) if (s.connected) this.#send(s, m);
  }

  #send(slot: Slot, m: ToWorker): void {
    if (!slot.child.connected) return;
    try {
      slot.child.send(m);
    } catch (err) {
      this.#o.logger.warn(
        { worker: slot.index, err: (err as Error).message },
        'cannot reach worker',
      );
    }
  }
}
