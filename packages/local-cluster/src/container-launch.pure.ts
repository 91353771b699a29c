// The command line that starts a container process: enter the pod's netns, take a mount namespace
// of its own (private, or a slave of the host's for HostToContainer, see mount-propagation.pure;
// and, for a pod with its own network, a UTS namespace carrying the pod's hostname), bind-mount
// the volumes recursively where the container expects them with their propagation, change
// directory, exec. nsenter and unshare exec in place, so the spawned pid is the container's.
import type { Propagation, RootPropagation } from './mount-propagation.pure.js';

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  /** Default None. */
  propagation?: Propagation;
}

export interface LaunchSpec {
  netnsPath?: string;
  /** The pod's hostname, set in a UTS namespace of the container's own; absent: the host's. */
  hostname?: string;
  mounts: Mount[];
  /** How the mount namespace starts; default private. */
  rootPropagation?: RootPropagation;
  /** With rootPropagation 'unchanged': host mounts left shared; all other shared ones become slaves. */
  keepShared?: string[];
  workingDir?: string;
  /** A FIFO the container reads as stdin (spec.stdin), opened read-write so it never sees EOF. */
  stdinFifo?: string;
  /** A directory the container must still see where it is when a volume covers it (the repo whose
   *  programs the images map to, say under an emptyDir at /tmp): bound back in over the volume. */
  keepVisible?: string;
  argv: string[];
}

const SCRIPT = [
  'set -e',
  // With the host's propagation kept (Bidirectional), every shared mount but the listed ones
  // (their sources) becomes a slave first: what the container mounts reaches the host only there.
  'others=$1; k=$2; shift 2; keep=""',
  'while [ "$k" -gt 0 ]; do keep="$keep|$1|"; shift; k=$((k-1)); done',
  'if [ "$others" = slave ]; then',
  `  for m in $(awk '{for(i=7;$i!="-";i++) if($i ~ /^shared:/){print $5; break}}' /proc/self/mountinfo); do`,
  '    m=$(printf "%b" "$m")',
  '    case "$keep" in *"|$m|"*) ;; *) mount --make-slave "$m" ;; esac',
  '  done',
  'fi',
  'host=$1; prog=$2; shift 2',
  'if [ -n "$host" ]; then hostname "$host"; fi',
  // A volume may be mounted over the directory of the program itself (say a ConfigMap at /root,
  // over a tool in ~/.cache): keep it open, and run it from that descriptor if it is hidden.
  'path=$(command -v "$prog" || true)',
  'if [ -f "$path" ] && [ -r "$path" ]; then exec 9<"$path"; else path=; fi',
  // Likewise a directory the program needs (its modules): opened before the volumes, bound back
  // from the descriptor if one of them hides it (the mount may not canonicalise the /proc link).
  'kv=$1; shift',
  'if [ -n "$kv" ] && [ -d "$kv" ]; then exec 8<"$kv"; else kv=; fi',
  'n=$1; shift',
  'while [ "$n" -gt 0 ]; do',
  '  src=$1; dst=$2; ro=$3; prop=$4; shift 4; n=$((n-1))',
  '  mount --rbind "$src" "$dst"',
  '  case "$prop" in',
  '    HostToContainer) mount --make-rslave "$dst" ;;',
  '    Bidirectional) mount --make-rshared "$dst" ;;',
  '    *) mount --make-rprivate "$dst" ;;',
  '  esac',
  '  if [ "$ro" = ro ]; then mount -o remount,bind,ro "$dst"; fi',
  'done',
  'if [ -n "$kv" ] && ! [ "$kv" -ef /proc/self/fd/8 ]; then',
  '  { mkdir -p "$kv" && mount --no-canonicalize --rbind /proc/self/fd/8 "$kv"; } ||',
  '    echo "container: $kv is hidden by a volume and could not be bound back" >&2',
  'fi',
  'if [ -n "$kv" ]; then exec 8<&-; fi',
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
  const mountArgs = s.mounts.flatMap((m) => [
    m.source,
    m.target,
    m.readOnly ? 'ro' : 'rw',
    m.propagation ?? 'None',
  ]);
  const root = s.rootPropagation ?? 'private';
  const keep = root === 'unchanged' ? (s.keepShared ?? []) : [];
  const inner = [
    'unshare',
    '--mount',
    ...(s.hostname ? ['--uts'] : []),
    '--propagation',
    root,
    '--',
    'sh',
    '-c',
    SCRIPT,
    'container',
    root === 'unchanged' ? 'slave' : '-',
    String(keep.length),
    ...keep,
    s.hostname ?? '',
    s.argv[0]!,
    s.keepVisible ?? '',
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
