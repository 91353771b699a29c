// Mount points made on the host for a node's mounts (a container's volume, a CNI plugin's view of a
// hostPath): created when missing and recorded, so `cluster delete` removes them again.
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

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
