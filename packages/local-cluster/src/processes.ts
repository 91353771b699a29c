// Background processes of a cluster: started detached with a log file and a pid file, stopped
// by pid file (SIGTERM, then SIGKILL), found again by pid file after the CLI exits.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  runDir: string;
  logDir: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export async function startDaemon(o: StartOptions): Promise<number> {
  await mkdir(o.runDir, { recursive: true });
  await mkdir(o.logDir, { recursive: true });
  const log = openSync(`${o.logDir}/${o.name}.log`, 'a');
  const child = spawn(o.command, o.args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: o.env ?? process.env,
    cwd: o.cwd,
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${o.name}: ${o.command}`);
  child.unref();
  await writeFile(`${o.runDir}/${o.name}.pid`, `${pid}\n`);
  return pid;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch {
    return false;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Sends SIGTERM, waits up to graceMs, then SIGKILL; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs = 5000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    while (isAlive(pid)) await sleep(20);
  }
}

/** Stops every process with a pid file in runDir and removes the pid files. */
export async function stopAll(runDir: string, graceMs = 5000): Promise<void> {
  if (!existsSync(runDir)) return;
  const files = readdirSync(runDir).filter((f) => f.endsWith('.pid'));
  await Promise.all(
    files.map(async (f) => {
      const pid = readPid(`${runDir}/${f}`);
      if (pid !== undefined) await stopPid(pid, graceMs);
      await rm(`${runDir}/${f}`, { force: true });
    }),
  );
}

/** Resident set size of a process in bytes (0 when it is gone). */
export function rssBytes(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

/**
 * The anonymous part of a process's resident memory in bytes (heap, stacks: its own), without the
 * file pages (e.g. the node binary) that every process mapping them counts again (0 when gone).
 */
export function anonBytes(pid: number): number {
  return statusBytes(pid, 'RssAnon');
}

function statusBytes(pid: number, field: string): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** All descendants of pid (children, grandchildren, ...), from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(d));
      children.set(ppid, list);
    } catch {
      /* exited */
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/** The start time of a process (field 22 of /proc/<pid>/stat), or undefined when it is gone or a zombie. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}
