// What the suites read on the nodes themselves, on either provider: the CNI config files, the
// rules in a pod's network namespace, and the host interface a node's traffic crosses. A local
// cluster's nodes are directories and network namespaces of this host; a kind cluster's are Docker
// containers (read with `docker exec`, DOCKER_HOST as the runner got it).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { layoutOf, podNetnsName } from '@trellis/local-cluster';

export type Provider = 'local' | 'kind';

/** The cluster the runner created: `cluster` is empty for an existing one (--kubeconfig). */
export interface ClusterRef {
  readonly provider: Provider;
  readonly cluster: string;
}

/** The nodes' file systems and pod namespaces are reachable (a cluster the runner created). */
export const nodesReachable = (ref: ClusterRef): boolean => ref.cluster !== '';

const docker = (args: readonly string[]) =>
  execFileSync('docker', args, { encoding: 'utf8', maxBuffer: 64 << 20 });

/** The node containers of a kind cluster, sorted by name (the Kubernetes node names). */
function kindNodes(cluster: string): string[] {
  return docker([
    'ps',
    '--filter',
    `label=io.x-k8s.kind.cluster=${cluster}`,
    '--format',
    '{{.Names}}',
  ])
    .split('\n')
    .filter(Boolean)
    .sort();
}

export interface CniConfig {
  readonly node: string;
  readonly file: string;
  /** The plugin types of its chain, in order. */
  readonly plugins: string[];
}

const pluginsOf = (json: string): string[] =>
  (JSON.parse(json).plugins as { type: string }[]).map((p) => p.type);

/** Every *.conflist in every node's /etc/cni/net.d. */
export function nodeCniConfigs(ref: ClusterRef): CniConfig[] {
  if (ref.provider === 'local')
    return layoutOf(ref.cluster).nodes.flatMap((node) => {
      const dir = join(node.dir, 'root/etc/cni/net.d');
      return readdirSync(dir)
        .filter((f) => f.endsWith('.conflist'))
        .sort()
        .map((file) => ({
          node: node.name,
          file,
          plugins: pluginsOf(readFileSync(join(dir, file), 'utf8')),
        }));
    });
  const SEP = '\n--trellis-file:';
  return kindNodes(ref.cluster).flatMap((node) =>
    docker([
      'exec',
      node,
      'sh',
      '-c',
      `for f in /etc/cni/net.d/*.conflist; do [ -f "$f" ] && printf '${SEP.replace('\n', '\\n')}%s\\n' "\${f##*/}" && cat "$f"; done; true`,
    ])
      .split(SEP)
      .slice(1)
      .map((chunk) => {
        const nl = chunk.indexOf('\n');
        return { node, file: chunk.slice(0, nl), plugins: pluginsOf(chunk.slice(nl + 1)) };
      })
      .sort((a, b) => a.file.localeCompare(b.file)),
  );
}

/** iptables-save in the network namespace of the pod `uid` (running on `node`). */
export function podIptablesSave(ref: ClusterRef, uid: string, node: string): string {
  if (ref.provider === 'local')
    return execFileSync('ip', ['netns', 'exec', podNetnsName(ref.cluster, uid), 'iptables-save'], {
      encoding: 'utf8',
    });
  // The pod sandbox's network namespace, as containerd's CRI reports it.
  const script = [
    `id=$(crictl pods --label io.kubernetes.pod.uid=${uid} -q | head -n1)`,
    `[ -n "$id" ] || { echo "no sandbox of pod ${uid} on this node" >&2; exit 1; }`,
    `ns=$(crictl inspectp "$id" | grep -o '/var/run/netns/[A-Za-z0-9_-]*' | head -n1)`,
    `[ -n "$ns" ] || { echo "no network namespace in sandbox $id" >&2; exit 1; }`,
    'exec nsenter --net="$ns" iptables-save',
  ].join('\n');
  return docker(['exec', node, 'sh', '-c', script]);
}

/** The host interface a node's traffic to the other nodes crosses (for a capture on this host):
 * the host end of its veth (kind: the node container's eth0 peer on the cluster's bridge). */
export function nodeHostLink(ref: ClusterRef, index: number): string {
  if (ref.provider === 'local') {
    const node = layoutOf(ref.cluster).nodes[index - 1];
    if (!node) throw new Error(`cluster ${ref.cluster} has no node ${index}`);
    return node.hostVeth;
  }
  const node = kindNodes(ref.cluster)[index - 1];
  if (!node) throw new Error(`kind cluster ${ref.cluster} has no node ${index}`);
  const peer = docker(['exec', node, 'cat', '/sys/class/net/eth0/iflink']).trim();
  const link = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => /^(\d+): ([^:@]+)/.exec(l))
    .find((m) => m?.[1] === peer)?.[2];
  if (!link) throw new Error(`no host interface with index ${peer} (the peer of ${node}'s eth0)`);
  return link;
}
