// Serialises cluster create/delete on this host (slot allocation, shared names) with a lock file
// holding the owner's pid; a lock whose owner is gone is taken over.
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, unlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './processes.js';

export async function withHostLock<T>(
  dir: string,
  fn: () => Promise<T>,
  waitMs = 600_000,
): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/.lock`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner: number;
      try {
        owner = Number(readFileSync(file, 'utf8').trim());
      } catch {
        continue;
      }
      if (!Number.isInteger(owner) || owner <= 0 || !isAlive(owner)) {
        try {
          unlinkSync(file);
        } catch {
          /* someone else took it over */
        }
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`another cluster operation (pid ${owner}) holds ${file}`, { cause: e });
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
}
