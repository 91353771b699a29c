// `trellis install` as a user runs it (the CLI as a process, its progress on this terminal), timed
// from the CLI's start to its exit (which is once every component is Ready, when it exits 0).
import { spawnSync } from 'node:child_process';
import { TRELLIS } from './suite.js';

export function trellisInstall(
  kubeconfig: string,
  profile: string,
  timeout: string,
): { status: number | null; seconds: number } {
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [TRELLIS, 'install', '--kubeconfig', kubeconfig, '--profile', profile, '--timeout', timeout],
    { stdio: 'inherit' },
  );
  return { status: r.status, seconds: (Date.now() - started) / 1000 };
}
