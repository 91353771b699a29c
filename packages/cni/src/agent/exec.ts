// Runs a command (optionally inside a network namespace via nsenter) and returns its stdout; a
// failure says which command, its exit status and its stderr.
import { spawn } from 'node:child_process';

export interface ExecOptions {
  /** Run inside this network namespace (a path nsenter can open). */
  netns?: string;
  stdin?: string;
}

export function exec(
  cmd: string,
  args: readonly string[],
  opts: ExecOptions = {},
): Promise<string> {
  const argv = opts.netns ? ['nsenter', `--net=${opts.netns}`, '--', cmd, ...args] : [cmd, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', (e) => reject(new Error(`${argv.join(' ')}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `${cmd} ${args.join(' ')}${opts.netns ? ` (in ${opts.netns})` : ''} failed (${signal ?? `exit ${code}`}): ${err.trim() || out.trim()}`,
          ),
        );
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
  });
}
