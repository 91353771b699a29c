// volumeMounts[].mountPropagation, honoured as kubelet and a CRI runtime do: None (a private
// copy), HostToContainer (mounts made on the host under the source later appear in the container;
// the container's root becomes a slave of the host's) and Bidirectional (privileged containers
// only; mounts either side make appear on the other, so the source must be on a shared mount).
// Pure: decides from the host's /proc/self/mountinfo what the container launch must do.

export type Propagation = 'None' | 'HostToContainer' | 'Bidirectional';

/** How the container's new mount namespace starts, before its volumes are mounted. */
export type RootPropagation = 'private' | 'slave' | 'unchanged';

export interface HostMount {
  mountPoint: string;
  shared: boolean;
  /** Receives mounts from a master peer group. */
  slave: boolean;
}

export interface PropagationPlan {
  root: RootPropagation;
  /** With root 'unchanged': the host mounts that stay shared (the Bidirectional sources); every
   * other shared mount becomes a slave, so nothing the container mounts reaches the host. */
  keepShared: string[];
  /** HostToContainer sources on a private mount (they receive nothing from the host). */
  warnings: string[];
}

/** The propagation a volumeMount asks for; kubelet's rules for the value and for privilege. */
export function mountPropagation(
  vm: { name: string; mountPropagation?: string },
  container: { name: string; securityContext?: { privileged?: boolean } },
): Propagation {
  const p = vm.mountPropagation ?? 'None';
  if (p !== 'None' && p !== 'HostToContainer' && p !== 'Bidirectional')
    throw new Error(
      `container ${container.name}: volumeMount "${vm.name}": invalid mountPropagation "${p}" (None, HostToContainer or Bidirectional)`,
    );
  if (p === 'Bidirectional' && container.securityContext?.privileged !== true)
    throw new Error(
      `container ${container.name}: volumeMount "${vm.name}": Bidirectional mount propagation is available only to privileged containers`,
    );
  return p;
}

/** Parses /proc/<pid>/mountinfo (octal escapes in paths decoded). Later lines are mounted on top. */
export function parseMountinfo(text: string): HostMount[] {
  const out: HostMount[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (f.length < 7 || sep < 6) continue;
    const optional = f.slice(6, sep);
    out.push({
      mountPoint: f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) =>
        String.fromCharCode(parseInt(o, 8)),
      ),
      shared: optional.some((o) => o.startsWith('shared:')),
      slave: optional.some((o) => o.startsWith('master:')),
    });
  }
  return out;
}

/** The mount a (symlink-free, absolute) path lives on: the longest mount point above it, topmost. */
export function mountContaining(mounts: readonly HostMount[], path: string): HostMount | undefined {
  let best: HostMount | undefined;
  for (const m of mounts) {
    const under =
      m.mountPoint === '/' || path === m.mountPoint || path.startsWith(`${m.mountPoint}/`);
    if (under && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/**
 * What the launch does for these mounts. `mounts` carry resolved sources; targets are the
 * container's paths (on the host's tree, as containers here have no root of their own).
 */
export function propagationPlan(
  mounts: ReadonlyArray<{ source: string; target: string; propagation: Propagation }>,
  host: readonly HostMount[],
): PropagationPlan {
  const keepShared = new Set<string>();
  const warnings: string[] = [];
  for (const m of mounts) {
    const on = mountContaining(host, m.source);
    if (m.propagation === 'Bidirectional') {
      if (!on?.shared)
        throw new Error(
          `Bidirectional mount of ${m.source}: it is on the mount ${on?.mountPoint ?? '?'}, which is not a shared mount (mount --make-rshared it on the host)`,
        );
      if (on.mountPoint === '/')
        throw new Error(
          `Bidirectional mount of ${m.source}: it is on the host's root mount, which holds the container's mount points too; put it on a mount of its own`,
        );
      keepShared.add(on.mountPoint);
    } else if (m.propagation === 'HostToContainer' && !on?.shared && !on?.slave) {
      warnings.push(
        `HostToContainer mount of ${m.source}: it is on the private mount ${on?.mountPoint ?? '?'}; the container sees nothing mounted there later`,
      );
    }
  }
  for (const m of mounts) {
    const on = mountContaining(host, m.target);
    if (on && keepShared.has(on.mountPoint))
      throw new Error(
        `mount target ${m.target} is on ${on.mountPoint}, which a Bidirectional mount keeps shared with the host: the mount would appear on the host; pick another mountPath`,
      );
  }
  const root: RootPropagation =
    keepShared.size > 0
      ? 'unchanged'
      : mounts.some((m) => m.propagation === 'HostToContainer')
        ? 'slave'
        : 'private';
  return { root, keepShared: [...keepShared], warnings };
}
