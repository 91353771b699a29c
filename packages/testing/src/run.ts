// Running the system tools the harness drives (ip, iptables-restore), with errors that say which
// command failed and what it printed.
import { execFileSync } from 'node:child_process';

export function run(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`, {
      cause: err,
    });
  }
}

/** Runs `cmd` inside the named network namespace. */
export function runIn(netns: string, cmd: string, args: string[], input?: string): string {
  return run('ip', ['netns', 'exec', netns, cmd, ...args], input);
}

/** Best effort (cleanup paths): never throws. */
export function tryRun(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // already gone
  }
}
