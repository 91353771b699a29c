// On kind, pods reach the host with their own addresses (kind's nodes do not masquerade traffic to
// their own Docker network), and the host has no route back to them. The waypoint suite's OTLP
// collector runs in the test process on the host: for that suite, the host gets a route to each
// node's pod CIDR via the node, removed afterwards (the kernel also drops them with the network).
import { spawnSync } from 'node:child_process';
import type { Kubectl } from '@trellis/local-cluster';

interface NodeRoute {
  readonly podCIDR: string;
  readonly nodeIP: string;
}

function ip(args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || r.status}`);
  return r.stdout;
}

/** Routes the kind cluster's pod CIDRs to their nodes; returns the host's address on the kind network. */
export function routePodsToHost(kubectl: Kubectl): { hostIP: string; remove(): void } {
  const routes: NodeRoute[] = kubectl
    .getJson('nodes')
    .items.map(
      (n: {
        metadata: { name: string };
        spec: { podCIDR?: string };
        status: { addresses?: { type: string; address: string }[] };
      }) => {
        const nodeIP = n.status.addresses?.find((a) => a.type === 'InternalIP')?.address;
        if (!n.spec.podCIDR || !nodeIP)
          throw new Error(`node ${n.metadata.name} has no pod CIDR or InternalIP`);
        return { podCIDR: n.spec.podCIDR, nodeIP };
      },
    );
  const [first] = routes;
  if (!first) throw new Error('the cluster has no nodes');
  const hostIP = (JSON.parse(ip(['-j', 'route', 'get', first.nodeIP])) as { prefsrc?: string }[])[0]
    ?.prefsrc;
  if (!hostIP) throw new Error(`the host has no address towards node ${first.nodeIP}`);
  const added: NodeRoute[] = [];
  const remove = () => {
    for (const r of added.splice(0)) spawnSync('ip', ['route', 'del', r.podCIDR, 'via', r.nodeIP]);
  };
  try {
    for (const r of routes) {
      if (ip(['route', 'show', 'exact', r.podCIDR]).trim() !== '')
        throw new Error(`the host already routes ${r.podCIDR}: not taking it over`);
      ip(['route', 'add', r.podCIDR, 'via', r.nodeIP]);
      added.push(r);
    }
  } catch (err) {
    remove();
    throw err;
  }
  return { hostIP, remove };
}
