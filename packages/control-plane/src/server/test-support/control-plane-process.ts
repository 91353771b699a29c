// Test support: runs the real `trellis-control-plane` binary (dist/main.js) as a child process,
// collects its JSON log lines, reads the ports it listened on from its "serving" line, and stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../trellis-control-plane.mjs', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface ControlPlaneProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  /** stderr text (start-up errors). */
  readonly stderr: () => string;
  readonly ports: { xds?: number; secureXds?: number; debug?: number };
  /** Resolves with the first log line matching, waiting up to `timeoutMs`. */
  waitForLog(match: (l: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts the binary with `args` and waits until it logs that it is serving. */
export async function startControlPlaneProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ControlPlaneProcess> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'], ...env },
  });
  const logs: LogLine[] = [];
  let stderr = '';
  const waiters = new Set<() => void>();
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ msg: line });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  const waitForLog = (match: (l: LogLine) => boolean, what: string, timeoutMs = 60_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs.find(match);
        if (found) {
          done();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out waiting for log: ${what}\nstderr: ${stderr}\nlogs:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`,
          ),
        );
      }, timeoutMs);
      const onExit = () => {
        done();
        reject(new Error(`the control plane exited while waiting for: ${what}\nstderr: ${stderr}`));
      };
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('exit', onExit);
      };
      waiters.add(check);
      child.once('exit', onExit);
      check();
    });

  const serving = await waitForLog((l) => l.msg === 'trellis-control-plane serving', 'serving');
  const port = (v: unknown) =>
    typeof v === 'string' ? Number(v.slice(v.lastIndexOf(':') + 1)) : undefined;
  return {
    child,
    logs,
    stderr: () => stderr,
    ports: {
      xds: port(serving['xds']),
      secureXds: port(serving['secureXds']),
      debug: port(serving['debug']),
    },
    waitForLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
