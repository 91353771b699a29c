// A spawned process whose stdout JSON log lines are collected, with waits for a line (its
// readiness signal), stop-by-signal and exit wait.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export type LogLine = Record<string, unknown> & { msg?: string; scope?: string };

/** How long `waitForLine` waits by default: start-up of a Node program on a loaded machine. */
export const START_TIMEOUT_MS = 60_000;

export class Spawned {
  readonly name: string;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly lines: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  #exitCode: number | null | undefined;
  #outputDone = false;
  readonly #watchers = new Set<() => void>();

  constructor(name: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
    this.name = name;
    this.child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.env ? { env: opts.env } : {}),
    });
    const output = createInterface({ input: this.child.stdout });
    const outputClosed = new Promise<void>((resolve) => output.once('close', resolve));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.#exitCode = code ?? (signal ? null : code);
        resolve(code);
        // Lines still buffered in the pipe count: tell the waiters once they are read (or after a
        // second, when a grandchild holds the pipe open).
        void Promise.race([outputClosed, sleep(1000, undefined, { ref: false })]).then(() => {
          this.#outputDone = true;
          this.#notify();
        });
      }),
    );
    output.on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ msg: line });
      }
      this.#notify();
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  get running(): boolean {
    return this.#exitCode === undefined;
  }

  /** Why it ended, for error messages. */
  describe(): string {
    const tail = this.lines.slice(-5).map((l) => JSON.stringify(l));
    return `${this.name} (exit ${String(this.#exitCode)}): stderr ${this.stderr.trim() || '(empty)'}; last log lines ${tail.join(' ')}`;
  }

  /**
   * The first log line `match` accepts, logged already or as soon as it is. Rejects when the
   * process exits first, or after `timeoutMs`, with the process state in the message.
   */
  waitForLine(
    what: string,
    match: (l: LogLine) => boolean,
    timeoutMs = START_TIMEOUT_MS,
  ): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const finish = (err: Error | undefined, line?: LogLine) => {
        clearTimeout(timer);
        this.#watchers.delete(check);
        if (err) reject(err);
        else resolve(line!);
      };
      let seen = 0;
      const check = () => {
        for (; seen < this.lines.length; seen++) {
          const line = this.lines[seen]!;
          if (match(line)) return finish(undefined, line);
        }
        if (this.#outputDone)
          finish(new Error(`${this.name} exited before logging ${what}; ${this.describe()}`));
      };
      const timer = setTimeout(
        () =>
          finish(
            new Error(
              `gave up after ${timeoutMs} ms waiting for ${this.name} to log ${what}; ${this.describe()}`,
            ),
          ),
        timeoutMs,
      );
      this.#watchers.add(check);
      check();
    });
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `killAfterMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 15_000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), killAfterMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  #notify(): void {
    for (const w of [...this.#watchers]) w();
  }
}
