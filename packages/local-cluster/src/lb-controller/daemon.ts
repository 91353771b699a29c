// The load-balancer controller as a background process of one cluster, local or kind: its config
// file, pid file and log under the cluster's state dir; started by `cluster create`, stopped by
// `cluster delete` (and by restartLbController).
import { writeFile } from 'node:fs/promises';
import { LB_CONTROLLER_MAIN } from '../paths.js';
import { readPid, startDaemon, stopPid } from '../processes.js';
import type { LbControllerConfig } from './controller.js';

/** Where a cluster's controller keeps its pid file and its log. */
const lbControllerPidFile = (stateDir: string) => `${stateDir}/run/lb-controller.pid`;
export const lbControllerLogFile = (stateDir: string) => `${stateDir}/logs/lb-controller.log`;

/** Writes `${stateDir}/lb-controller.json` and starts the controller on it; resolves with its pid. */
export async function startLbControllerDaemon(
  stateDir: string,
  cfg: LbControllerConfig,
): Promise<number> {
  const file = `${stateDir}/lb-controller.json`;
  await writeFile(file, JSON.stringify(cfg, null, 2) + '\n');
  return startDaemon({
    name: 'lb-controller',
    command: process.execPath,
    args: [LB_CONTROLLER_MAIN, file],
    runDir: `${stateDir}/run`,
    logDir: `${stateDir}/logs`,
  });
}

/** Stops the cluster's controller when it runs (SIGTERM, then SIGKILL after graceMs). */
export async function stopLbControllerDaemon(stateDir: string, graceMs = 3000): Promise<void> {
  const pid = readPid(lbControllerPidFile(stateDir));
  if (pid !== undefined) await stopPid(pid, graceMs);
}
