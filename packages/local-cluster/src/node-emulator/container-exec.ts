// `kubectl exec` and `kubectl attach` against a running container process: exec runs the command
// in the container's namespaces with its environment (from /proc/<pid>/environ), under a
// pseudo-terminal when asked, resizing it as the client's terminal changes; attach follows the
// container's output and feeds its stdin FIFO.
import { spawn } from 'node:child_process';
import {
  constants,
  createReadStream,
  existsSync,
  openSync,
  readFileSync,
  readlinkSync,
  statSync,
} from 'node:fs';
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../exec.js';
import { isAlive } from '../processes.js';
import type { CommandStreams } from '../streaming/remote-command.js';
import type { CommandOutcome } from '../streaming/stream-request.pure.js';
import { nsenterArgv, parseEnviron, ttyArgv, type TermSize } from './exec-command.pure.js';

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGTERM: 15,
  SIGPIPE: 13,
};

export async function execInContainer(
  pid: number,
  command: string[],
  io: CommandStreams,
): Promise<CommandOutcome> {
  let env: Record<string, string>;
  try {
    env = parseEnviron(readFileSync(`/proc/${pid}/environ`));
  } catch {
    return { error: `container process ${pid} is gone` };
  }
  const inner = nsenterArgv(pid, command);
  const argv = io.tty ? ttyArgv(inner, await io.resizes.next(1000)) : inner;
  const child = spawn(argv[0]!, argv.slice(1), {
    env,
    detached: true,
    stdio: [
      io.stdin ? 'pipe' : 'ignore',
      io.stdout ? 'pipe' : 'ignore',
      io.stderr ? 'pipe' : 'ignore',
    ],
  });
  const done = new Promise<CommandOutcome>((resolve) => {
    child.on('error', (e) => resolve({ error: `cannot start ${argv[0]}: ${e.message}` }));
    child.on('close', (code, signal) =>
      resolve({ exitCode: code ?? 128 + (SIGNALS[signal ?? ''] ?? 9) }),
    );
  });
  if (io.stdin && child.stdin) {
    child.stdin.on('error', () => undefined);
    io.stdin.pipe(child.stdin);
  }
  if (io.stdout && child.stdout) child.stdout.pipe(io.stdout, { end: false });
  if (io.stderr && child.stderr) child.stderr.pipe(io.stderr, { end: false });
  if (io.tty && child.pid) {
    const scriptPid = child.pid;
    const shellCommand = argv[4]!; // ttyArgv: script -q -e -c <shell command> /dev/null
    // One at a time, in order: a later size must not be overtaken by an earlier one.
    let resizing = Promise.resolve();
    io.resizes.listen((size) => {
      resizing = resizing.then(() => resizePty(scriptPid, shellCommand, size));
    });
  }
  const kill = () => {
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  io.signal.addEventListener('abort', kill, { once: true });
  const outcome = await done;
  io.signal.removeEventListener('abort', kill);
  io.stdin?.unpipe();
  return outcome;
}

/**
 * Sets the size of the pseudo-terminal of the command `script` runs (its child's stdin), waiting
 * for that child as long as `script` lives (it can take seconds to appear on a loaded machine),
 * and until the child's shell has run `shellCommand`'s initial stty and exec'd the command: a
 * resize applied before that would be undone by the initial size.
 */
async function resizePty(scriptPid: number, shellCommand: string, size: TermSize): Promise<void> {
  while (isAlive(scriptPid)) {
    const pts = ptyOfCommand(scriptPid, shellCommand);
    if (pts) {
      await run('stty', ['-F', pts, 'rows', String(size.height), 'cols', String(size.width)], {
        allowFailure: true,
      });
      return;
    }
    await sleep(50);
  }
}

/** The terminal of `script`'s child once it is the command, no longer the shell that starts it. */
function ptyOfCommand(pid: number, shellCommand: string): string | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    for (const c of children.filter(Boolean)) {
      if (readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').includes(shellCommand)) continue;
      const tty = readlinkSync(`/proc/${c}/fd/0`);
      if (tty.startsWith('/dev/pts/')) return tty;
    }
  } catch {
    /* not there yet, or gone */
  }
  return undefined;
}

/**
 * Attaches to a running container: its output from now on (stdout and stderr share the log file,
 * so both arrive on stdout) until the process exits, and stdin into its FIFO when it has one.
 */
export async function attachToContainer(
  pid: number,
  logFile: string,
  stdinFifo: string | undefined,
  io: CommandStreams,
): Promise<CommandOutcome> {
  let fifo: Socket | undefined;
  if (io.stdin) {
    if (stdinFifo && existsSync(stdinFifo)) {
      fifo = new Socket({
        fd: openSync(stdinFifo, constants.O_WRONLY | constants.O_NONBLOCK),
        readable: false,
      });
      fifo.on('error', () => undefined);
      io.stdin.pipe(fifo);
    } else {
      io.stdin.resume();
    }
  }
  const out = io.stdout ?? io.stderr;
  let offset = existsSync(logFile) ? statSync(logFile).size : 0;
  const follow = async () => {
    const size = existsSync(logFile) ? statSync(logFile).size : 0;
    if (out && size > offset) {
      await new Promise<void>((resolve) => {
        const r = createReadStream(logFile, { start: offset, end: size - 1 });
        r.on('end', resolve).on('error', () => resolve());
        r.pipe(out, { end: false });
      });
      offset = size;
    }
  };
  while (!io.signal.aborted && isAlive(pid)) {
    await follow();
    await sleep(100);
  }
  // What the container wrote just before it exited.
  if (!io.signal.aborted) await follow();
  io.stdin?.unpipe();
  fifo?.destroy();
  return { exitCode: 0 };
}
