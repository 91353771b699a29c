// The command line that starts a container process: enter the pod's netns, take a private mount
// namespace (and, for a pod with its own network, a UTS namespace carrying the pod's hostname),
// bind-mount the volumes where the container expects them, change directory, exec.
// nsenter and unshare exec in place, so the spawned pid is the container's own process.

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface LaunchSpec {
  netnsPath?: string;
  /** The pod's hostname, set in a UTS namespace of the container's own; absent: the host's. */
  hostname?: string;
  mounts: Mount[];
  workingDir?: string;
  /** A FIFO the container reads as stdin (spec.stdin), opened read-write so it never sees EOF. */
  stdinFifo?: string;
  argv: string[];
}

const SCRIPT = [
  'set -e',
  'host=$1; prog=$2; shift 2',
  'if [ -n "$host" ]; then hostname "$host"; fi',
  // A volume may be mounted over the directory of the program itself (say a ConfigMap at /root,
  // over a tool in ~/.cache): keep it open, and run it from that descriptor if it is hidden.
  'path=$(command -v "$prog" || true)',
  'if [ -f "$path" ] && [ -r "$path" ]; then exec 9<"$path"; else path=; fi',
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
  'if [ -n "$path" ] && ! [ "$path" -ef /proc/self/fd/9 ]; then exec /proc/self/fd/9 "$@"; fi',
  'if [ -n "$path" ]; then exec 9<&-; fi',
  'exec "$prog" "$@"',
].join('\n');

export function launchArgv(s: LaunchSpec): string[] {
  if (s.argv.length === 0)
    throw new Error('container has no command: set command in the pod or in the image map');
  const mountArgs = s.mounts.flatMap((m) => [m.source, m.target, m.readOnly ? 'ro' : 'rw']);
  const inner = [
    'unshare',
    '--mount',
    ...(s.hostname ? ['--uts'] : []),
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    SCRIPT,
    'container',
    s.hostname ?? '',
    s.argv[0]!,
    String(s.mounts.length),
    ...mountArgs,
    s.stdinFifo ?? '',
    s.workingDir ?? '',
    ...s.argv.slice(1),
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
