// Pure parts of volume handling: which files a volume holds and where containers mount them.
import type { Mount } from './container-launch.pure.js';
import { fieldRefValue, type PodFacts } from './env.pure.js';
import type { Container, DownwardAPIFile, KeyToPath } from './pod-spec.js';
import { mountPropagation } from './mount-propagation.pure.js';

export interface VolumeFile {
  path: string;
  content: string | Buffer;
  mode: number;
}

/** Files of a ConfigMap/Secret volume (or projection): all keys, or only `items`, with modes. */
export function keyFiles(
  data: Record<string, string | Buffer>,
  items: KeyToPath[] | undefined,
  defaultMode: number,
  what: string,
): VolumeFile[] {
  if (!items?.length)
    return Object.entries(data).map(([k, v]) => ({ path: k, content: v, mode: defaultMode }));
  return items.map((it) => {
    const v = data[it.key];
    if (v === undefined) throw new Error(`${what}: key "${it.key}" not found`);
    return { path: it.path, content: v, mode: it.mode ?? defaultMode };
  });
}

export function downwardFiles(
  items: DownwardAPIFile[],
  p: PodFacts,
  defaultMode: number,
): VolumeFile[] {
  return items
    .filter((i) => i.fieldRef)
    .map((i) => ({
      path: i.path,
      content: fieldRefValue(i.fieldRef!.fieldPath, p),
      mode: i.mode ?? defaultMode,
    }));
}

/** Bind mounts for a container from its volumeMounts (with their propagation) and the directories prepared per volume. */
export function containerMounts(
  container: Pick<Container, 'name' | 'volumeMounts' | 'securityContext'>,
  volumeDirs: Map<string, string>,
): Mount[] {
  return (container.volumeMounts ?? []).map((vm): Mount => {
    const dir = volumeDirs.get(vm.name);
    if (!dir)
      throw new Error(
        `container ${container.name}: volumeMount "${vm.name}" has no matching volume`,
      );
    return {
      source: vm.subPath ? `${dir}/${vm.subPath}` : dir,
      target: vm.mountPath,
      readOnly: Boolean(vm.readOnly),
      propagation: mountPropagation(vm, container),
    };
  });
}

/** Seconds after issue at which a projected token is refreshed: 80% of its lifetime, at most 24 h. */
export function tokenRefreshAfterSeconds(issuedAt: Date, expiresAt: Date): number {
  const life = (expiresAt.getTime() - issuedAt.getTime()) / 1000;
  return Math.max(1, Math.min(life * 0.8, 24 * 3600));
}

/** Decodes a Secret's base64 data. */
export function decodeSecretData(data: Record<string, string> | undefined): Record<string, Buffer> {
  return Object.fromEntries(
    Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  );
}
