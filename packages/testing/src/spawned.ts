// A spawned process whose stdout JSON log lines are collected, with stop-by-signal and exit wait.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export type LogLine = Record<string, unknown> & { msg?: string; scope?: string };

export class Spawned {
  readonly name: string;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly lines: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  #exitCode: number | null | undefined;

  constructor(name: string, cmd: string, args: string[]) {
    this.name = name;
    this.child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.#exitCode = code ?? (signal ? null : code);
        resolve(code);
      }),
    );
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ msg: line });
      }
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
}
