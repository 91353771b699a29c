// Host-side networking of a cluster: one bridge on the host, one netns per node joined to it by a
// veth pair, routes from the host to each node's pod CIDR. Nothing routes beyond this host: the
// nodes have no default route and the host does not forward.
import { run } from './exec.js';
import type { ClusterLayout, NodeLayout } from './layout.pure.js';
import { coveringCidrs, parseLbRange, rangeWithin } from './lb-controller/range.pure.js';

const ip = (...args: string[]) => run('ip', args);

export async function listNetns(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { allowFailure: true });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

export async function linkExists(name: string): Promise<boolean> {
  return (await run('ip', ['link', 'show', name], { allowFailure: true })).code === 0;
}

export async function createBridge(l: ClusterLayout): Promise<void> {
  await ip('link', 'add', l.bridge, 'type', 'bridge');
  await ip('addr', 'add', `${l.hostIP}/24`, 'dev', l.bridge);
  await ip('link', 'set', l.bridge, 'up');
}

/** Runs a command inside a netns. */
export function inNetns(netns: string, cmd: string, args: string[]) {
  return run('ip', ['netns', 'exec', netns, cmd, ...args]);
}

export async function writeSysctl(netns: string, key: string, value: string): Promise<void> {
  await run('ip', [
    'netns',
    'exec',
    netns,
    'sh',
    '-c',
    `echo ${value} > /proc/sys/${key.replaceAll('.', '/')}`,
  ]);
}

export async function createNodeNetns(l: ClusterLayout, n: NodeLayout): Promise<void> {
  // The veth names belong to this cluster's slot: one still there is a leftover of a deleted cluster.
  const peer = n.hostVeth.replace(/^tlh/, 'tlp');
  await deleteLink(n.hostVeth);
  await deleteLink(peer);
  await ip('netns', 'add', n.netns);
  await ip('link', 'add', n.hostVeth, 'type', 'veth', 'peer', 'name', peer);
  await ip('link', 'set', peer, 'netns', n.netns);
  await ip('link', 'set', n.hostVeth, 'master', l.bridge);
  await ip('link', 'set', n.hostVeth, 'up');
  await inNetns(n.netns, 'ip', ['link', 'set', peer, 'name', n.nodeVeth]);
  await inNetns(n.netns, 'ip', ['addr', 'add', `${n.ip}/24`, 'dev', n.nodeVeth]);
  await inNetns(n.netns, 'ip', ['link', 'set', n.nodeVeth, 'up']);
  await inNetns(n.netns, 'ip', ['link', 'set', 'lo', 'up']);
  // Service IPs are translated by kube-proxy; locally originated packets need a route to exist first.
  await inNetns(n.netns, 'ip', ['route', 'add', l.serviceCIDR, 'dev', n.nodeVeth]);
  // Likewise load-balancer addresses (kube-proxy translates them too), unless they are on the
  // node network already.
  const lb = parseLbRange(l.lbRange);
  if (!rangeWithin(lb, l.nodeSubnet))
    for (const cidr of coveringCidrs(lb))
      await inNetns(n.netns, 'ip', ['route', 'add', cidr, 'dev', n.nodeVeth]);
  await writeSysctl(n.netns, 'net.ipv4.ip_forward', '1');
  await writeSysctl(n.netns, 'net.bridge.bridge-nf-call-iptables', '1').catch(() => undefined);
  await writeSysctl(n.netns, 'net.ipv4.conf.all.rp_filter', '0');
}

export async function addHostPodRoute(
  l: ClusterLayout,
  podCIDR: string,
  nodeIP: string,
): Promise<void> {
  await ip('route', 'replace', podCIDR, 'via', nodeIP, 'dev', l.bridge);
}

export async function addNodePodRoute(
  netns: string,
  podCIDR: string,
  nodeIP: string,
): Promise<void> {
  await inNetns(netns, 'ip', ['route', 'replace', podCIDR, 'via', nodeIP]);
}

/** Kills every process inside the netns, then deletes it. */
export async function destroyNetns(netns: string): Promise<void> {
  const pids = (await run('ip', ['netns', 'pids', netns], { allowFailure: true })).stdout
    .split('\n')
    .filter(Boolean);
  for (const p of pids) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await run('ip', ['netns', 'delete', netns], { allowFailure: true });
}

export async function deleteLink(name: string): Promise<void> {
  await run('ip', ['link', 'delete', name], { allowFailure: true });
}

/** Interfaces enslaved to a bridge (the host ends of the node veths). */
export async function bridgePorts(bridge: string): Promise<string[]> {
  const r = await run('ip', ['-o', 'link', 'show', 'master', bridge], { allowFailure: true });
  return r.stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((x): x is string => Boolean(x));
}
