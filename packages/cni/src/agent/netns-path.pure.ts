// Where the agent opens a pod's network namespace given the CNI_NETNS the runtime passed, a path of
// the node: /proc/<pid>/ns/net is read through the node's /proc as mounted in the agent; a pinned
// netns (/var/run/netns/cni-<id>) at that path when the agent sees it (a process on the node, as
// on a local cluster), else under the node's pin directory as mounted in the agent (a container:
// kind, real nodes; MOUNTED_NETNS_DIR), else the path as given (so opening it fails naming it).
import { basename, join } from 'node:path';

export interface NetnsPathOptions {
  /** The node's /proc as mounted in the agent (HOST_PROC). */
  readonly hostProc: string;
  /** The node's netns pin directory as mounted in the agent (MOUNTED_NETNS_DIR), if any. */
  readonly mountedNetnsDir?: string | undefined;
  readonly exists: (path: string) => boolean;
}

export function agentNetnsPath(netns: string, o: NetnsPathOptions): string {
  if (netns.startsWith('/proc/')) return `${o.hostProc}${netns.slice('/proc'.length)}`;
  const mounted = o.mountedNetnsDir && join(o.mountedNetnsDir, basename(netns));
  return mounted && !o.exists(netns) && o.exists(mounted) ? mounted : netns;
}
