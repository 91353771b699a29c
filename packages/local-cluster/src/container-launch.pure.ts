// The command line that starts a container process: enter the pod's netns, take a private mount
// namespace, bind-mount the volumes where the container expects them, change directory, exec.
// nsenter and unshare exec in place, so the spawned pid is the container's own process.

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface LaunchSpec {
  netnsPath?: string;
  mounts: Mount[];
  workingDir?: string;
  /** A FIFO the container reads as stdin (spec.stdin), opened read-write so it never sees EOF. */
  stdinFifo?: string;
  argv: string[];
}

const SCRIPT = [
  'set -e',
  'n=$1; shift',
  'while [ "$n" -gt 0 ]; do',
  '  src=$1; dst=$2; ro=$3; shift 3; n=$((n-1))',
  '  mount --bind "$src" "$dst"',
  '  if [ "$ro" = ro ]; then mount -o remount,bind,ro "$dst"; fi',
  'done',
  'fifo=$1; shift',
  'if [ -n "$fifo" ]; then exec 0<>"$fifo"; fi',
  'wd=$1; shift',
  'if [ -n "$wd" ]; then cd "$wd"; fi',
  'exec "$@"',
].join('\n');

export function launchArgv(s: LaunchSpec): string[] {
  if (s.argv.length === 0)
    throw new Error('container has no command: set command in the pod or in the image map');
  const mountArgs = s.mounts.flatMap((m) => [m.source, m.target, m.readOnly ? 'ro' : 'rw']);
  const inner = [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    SCRIPT,
    'container',
    String(s.mounts.length),
    ...mountArgs,
    s.stdinFifo ?? '',
    s.workingDir ?? '',
    ...s.argv,
  ];
  return s.netnsPath ? ['nsenter', `--net=${s.netnsPath}`, '--', ...inner] : inner;
}

/** Paths that hostPath volumes see from the real host instead of the node's private directory. */
export const HOST_SHARED_PATHS = [
  '/proc',
  '/sys',
  '/dev',
  '/run/netns',
  '/var/run/netns',
  '/lib/modules',
];

/** Where a hostPath volume lives: the node's root directory, except for the shared host paths. */
export function hostPathSource(path: string, nodeRoot: string): string {
  const norm = path.replace(/\/+$/, '') || '/';
  if (HOST_SHARED_PATHS.some((p) => norm === p || norm.startsWith(`${p}/`))) return norm;
  return `${nodeRoot}${norm === '/' ? '' : norm}`;
}
