// Runs a command to completion and returns its output; fails with the command line and stderr.
import { execFile } from 'node:child_process';

export interface ExecOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  allowFailure?: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { env: opts.env ?? process.env, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        if (code !== 0 && !opts.allowFailure) {
          reject(
            new Error(
              `${cmd} ${args.join(' ')} failed (exit ${code}): ${String(stderr).trim() || String(stdout).trim() || err?.message}`,
            ),
          );
          return;
        }
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
