// What a CNI plugin sees of the filesystem. A runtime on a real node runs plugins in the node's
// mount namespace, where a pod's hostPath is the node's own directory; here the node's directories
// live under <node>/root (hostPathSource), so each plugin runs in a private mount namespace of its
// own with the node's directories bound over the host paths pods have used as hostPaths.
import { HOST_SHARED_PATHS, hostPathSource } from './container-launch.pure.js';

/** Host directories a plugin always keeps: a node's root without them would hide its programs. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/etc', '/root', '/tmp'];

export interface Bind {
  source: string;
  target: string;
}

const under = (p: string, dir: string) => p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
const normalize = (p: string) => p.replace(/\/+/g, '/').replace(/\/$/, '') || '/';

/**
 * The binds for a plugin: each host path (the outermost of nested ones) gets the node's directory,
 * except the paths that are the host's on every node (HOST_SHARED_PATHS) and any path that would
 * hide one the plugin needs from the host (keepVisible: the node dir itself, the programs' dirs;
 * and the system dirs).
 */
export function nodeFsBinds(
  hostPaths: readonly string[],
  nodeRoot: string,
  keepVisible: readonly string[],
): Bind[] {
  const keep = [...SYSTEM_DIRS, ...HOST_SHARED_PATHS, ...keepVisible.map(normalize)];
  const paths = [...new Set(hostPaths.map(normalize))].filter(
    (p) =>
      p.startsWith('/') &&
      !p.split('/').includes('..') &&
      !HOST_SHARED_PATHS.some((h) => under(p, h)) &&
      !keep.some((k) => under(k, p)),
  );
  return paths
    .filter((p) => !paths.some((q) => q !== p && under(p, q)))
    .sort()
    .map((target) => ({ source: hostPathSource(target, nodeRoot), target }));
}

const SCRIPT =
  'n=$1; shift; while [ "$n" -gt 0 ]; do /usr/bin/mount --rbind "$1" "$2" || exit 1; shift 2; n=$((n-1)); done; exec "$@"';

/**
 * The command that runs a plugin with the binds: a mount namespace of its own whose mounts are
 * slaves of the host's (host mounts reach it, its binds reach nothing else), then exec.
 */
export function pluginArgv(binary: string, binds: readonly Bind[]): string[] {
  if (binds.length === 0) return [binary];
  return [
    // By absolute path: the runtime's PATH is the plugins' (it may lack /usr/bin).
    '/usr/bin/unshare',
    '--mount',
    '--propagation',
    'slave',
    '--',
    '/bin/sh',
    '-c',
    SCRIPT,
    'cni-plugin',
    String(binds.length),
    ...binds.flatMap((b) => [b.source, b.target]),
    binary,
  ];
}
