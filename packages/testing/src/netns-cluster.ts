// Nodes and pods as real network namespaces: a bridge namespace joins the nodes, each pod has a
// veth to its node, and each pod gets the in-pod redirection rules of @trellis/cni. Every address
// lives inside namespaces created here, names are unique per run, and cleanup() deletes them all.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { inpodIptablesRules, inpodRouteCommands } from '@trellis/cni/rules';
import { run, runIn, tryRun } from './run.js';

export interface Node {
  readonly index: number;
  readonly name: string;
  /** netns name (under /run/netns). */
  readonly netns: string;
  /** The node's address on the bridge. */
  readonly ip: string;
  /** This node's pod addresses come from 10.200.<index>.0/24. */
  readonly podCidr: string;
  readonly pods: Pod[];
}

export interface Pod {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly uid: string;
  readonly ip: string;
  readonly netns: string;
  readonly netnsPath: string;
  readonly node: Node;
  /** The node-side veth (inside the node netns): capture here to see the pod's traffic. */
  readonly nodeVeth: string;
  readonly redirected: boolean;
}

export interface AddPodOptions {
  name: string;
  ns?: string;
  sa?: string;
  /** Default: the next free address of the node's pod CIDR. */
  ip?: string;
  /** Apply the in-pod redirection rules (default true); false makes a pod outside the mesh. */
  redirect?: boolean;
}

const GATEWAY = '169.254.1.1';

export class NetnsCluster {
  readonly runId = randomBytes(3).toString('hex');
  readonly bridgeNetns = `tb${this.runId}-br`;
  readonly nodes: Node[] = [];
  readonly #namespaces: string[] = [];

  /** `n` nodes on one bridge (10.199.0.<i>/24), routes to each other's pod CIDRs. */
  static create(n: number): NetnsCluster {
    const c = new NetnsCluster();
    try {
      c.#init(n);
    } catch (err) {
      c.cleanup();
      throw err;
    }
    return c;
  }

  #netns(name: string): string {
    run('ip', ['netns', 'add', name]);
    this.#namespaces.push(name);
    run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  #init(n: number): void {
    const br = this.#netns(this.bridgeNetns);
    run('ip', ['-n', br, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', br, 'link', 'set', 'br0', 'up']);
    // Bridged frames must not traverse iptables (br_netfilter), or transparent sockets hang.
    if (existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) {
      tryRun('ip', ['netns', 'exec', br, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0']);
      tryRun('ip', ['netns', 'exec', br, 'sysctl', '-qw', 'net.bridge.bridge-nf-call-ip6tables=0']);
    }
    for (let i = 1; i <= n; i++) {
      const netns = this.#netns(`tb${this.runId}-n${i}`);
      run('ip', [
        '-n',
        br,
        'link',
        'add',
        `n${i}`,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        netns,
      ]);
      run('ip', ['-n', br, 'link', 'set', `n${i}`, 'master', 'br0', 'up']);
      const ip = `10.199.0.${i}`;
      run('ip', ['-n', netns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      run('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
      runIn(netns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      this.nodes.push({
        index: i,
        name: `node-${i}`,
        netns,
        ip,
        podCidr: `10.200.${i}.0/24`,
        pods: [],
      });
    }
    for (const a of this.nodes)
      for (const b of this.nodes)
        if (a !== b) run('ip', ['-n', a.netns, 'route', 'add', b.podCidr, 'via', b.ip]);
  }

  /** A pod netns with a veth to `node`, its address routed on the node, and (by default) the in-pod rules. */
  addPod(node: Node, opts: AddPodOptions): Pod {
    const k = node.pods.length + 1;
    const ip = opts.ip ?? `10.200.${node.index}.${k + 1}`;
    const netns = this.#netns(`${node.netns}-p${k}`);
    const nodeVeth = `p${k}`;
    run('ip', [
      '-n',
      node.netns,
      'link',
      'add',
      nodeVeth,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      netns,
    ]);
    run('ip', ['-n', node.netns, 'link', 'set', nodeVeth, 'up']);
    // The pod's gateway is a link-local address on the node side of its veth.
    run('ip', ['-n', node.netns, 'addr', 'add', `${GATEWAY}/32`, 'dev', nodeVeth, 'scope', 'link']);
    run('ip', ['-n', node.netns, 'route', 'add', `${ip}/32`, 'dev', nodeVeth]);
    run('ip', ['-n', netns, 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
    run('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', netns, 'route', 'add', GATEWAY, 'dev', 'eth0', 'scope', 'link']);
    run('ip', ['-n', netns, 'route', 'add', 'default', 'via', GATEWAY, 'dev', 'eth0']);
    const redirected = opts.redirect ?? true;
    if (redirected) applyInpodRules(netns);
    const pod: Pod = {
      name: opts.name,
      namespace: opts.ns ?? 'default',
      serviceAccount: opts.sa ?? 'default',
      uid: `${opts.ns ?? 'default'}/${opts.name}`,
      ip,
      netns,
      netnsPath: `/run/netns/${netns}`,
      node,
      nodeVeth,
      redirected,
    };
    node.pods.push(pod);
    return pod;
  }

  /** Deletes every namespace created (and with them their veths, routes and rules). */
  cleanup(): void {
    for (const ns of this.#namespaces.splice(0).reverse()) tryRun('ip', ['netns', 'del', ns]);
  }
}

/** The in-pod rules (IPv4) and policy routing, applied with iptables-restore in `netns`. */
export function applyInpodRules(netns: string, opts: { dnsCapture?: boolean } = {}): void {
  runIn(
    netns,
    'iptables-restore',
    ['--noflush'],
    inpodIptablesRules({ family: 4, dnsCapture: opts.dnsCapture === true }),
  );
  for (const args of inpodRouteCommands(4)) run('ip', ['-n', netns, ...args]);
}
