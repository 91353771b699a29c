// Mount points made on the host for a node's mounts (a container's volume, a CNI plugin's view of a
// hostPath): created when missing and recorded, so `cluster delete` removes them again.
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A cluster's record of the mount points it made on the host, in its state directory. */
export const recordFileOf = (stateDir: string): string => `${stateDir}/host-mountpoints`;
/** The host-wide list of mount points left to the last cluster using them (clusters directory). */
export const pendingFileOf = (clustersDir: string): string =>
  `${clustersDir}/host-mountpoints.pending`;

export async function ensureHostMountpoint(
  target: string,
  isFile: boolean,
  recordFile: string,
): Promise<void> {
  if (existsSync(target)) return;
  const created: string[] = [];
  let p = isFile ? dirname(target) : target;
  while (!existsSync(p)) {
    created.unshift(p);
    p = dirname(p);
  }
  for (const d of created) {
    await mkdir(d, { recursive: true });
    await appendFile(recordFile, `${d}\n`);
  }
  if (isFile) {
    await appendFile(target, '');
    await appendFile(recordFile, `${target}\n`);
  }
}

/** Lines of a list file kept by appending (missing file: none). */
export function readList(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** Appends a line to a list file unless it is there already. */
export async function addToList(file: string, line: string): Promise<void> {
  if (!readList(file).includes(line)) await appendFile(file, `${line}\n`);
}

/**
 * Removes the mount points a deleted cluster made on the host (`recordFile`), deepest first. A path
 * another cluster's containers still have mounted (`inUse`) stays, and goes to the host-wide list
 * `pendingFile`, which every later delete works through too: the last cluster using a path removes
 * it, whichever made it. Call under the host lock.
 */
export async function releaseHostMountpoints(
  recordFile: string,
  pendingFile: string,
  inUse: (path: string) => boolean,
): Promise<void> {
  const paths = [...new Set([...readList(recordFile), ...readList(pendingFile)])].sort(
    (a, b) => b.length - a.length,
  );
  const kept: string[] = [];
  for (const p of paths) {
    if (!existsSync(p)) continue;
    if (inUse(p)) kept.push(p);
    else await rmdir(p).catch(() => rm(p, { force: true }).catch(() => undefined));
  }
  // A directory kept for a path below it stays pending too (rmdir left it because it is not empty).
  for (const p of paths) if (!kept.includes(p) && existsSync(p)) kept.push(p);
  if (kept.length > 0) await writeFile(pendingFile, kept.map((p) => `${p}\n`).join(''));
  else await rm(pendingFile, { force: true });
}
