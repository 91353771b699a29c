// Mount propagation on the node (see mount-propagation.pure): the node's directory is a shared
// mount, as kubelet makes its root dir rshared and systemd the host's /, so hostPaths can propagate;
// and the plan of one container launch, from the host's mount table.
import { readFile, realpath } from 'node:fs/promises';
import { run } from '../exec.js';
import type { Mount } from '../container-launch.pure.js';
import {
  parseMountinfo,
  propagationPlan,
  type PropagationPlan,
} from '../mount-propagation.pure.js';

export async function launchPropagation(mounts: readonly Mount[]): Promise<PropagationPlan> {
  if (mounts.every((m) => (m.propagation ?? 'None') === 'None'))
    return { root: 'private', keepShared: [], warnings: [] };
  const host = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
  const resolved = await Promise.all(
    mounts.map(async (m) => ({
      source: await realpath(m.source).catch(() => m.source),
      target: await realpath(m.target).catch(() => m.target),
      propagation: m.propagation ?? 'None',
    })),
  );
  return propagationPlan(resolved, host);
}

/** Makes `dir` an rshared mount (a bind of itself first when it is no mount point); idempotent. */
export async function makeRShared(dir: string): Promise<void> {
  const real = await realpath(dir);
  const host = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
  if (!host.some((m) => m.mountPoint === real)) await run('mount', ['--bind', real, real]);
  await run('mount', ['--make-rshared', real]);
}
