// Names, addresses and paths of one local cluster, derived from its name, slot and node count.
// Everything a cluster creates on the host is named here, so `delete` can find all of it.

export interface NodeLayout {
  name: string;
  index: number;
  netns: string;
  ip: string;
  hostVeth: string;
  nodeVeth: string;
  dir: string;
}

export interface ClusterLayout {
  name: string;
  slot: number;
  stateDir: string;
  bridge: string;
  hostIP: string;
  nodeSubnet: string;
  clusterCIDR: string;
  serviceCIDR: string;
  kubernetesServiceIP: string;
  /** The kube-dns Service IP (kubeadm's convention: .10 of the service range). */
  clusterDNSIP: string;
  apiServerPort: number;
  apiServerURL: string;
  etcdClientURL: string;
  etcdPeerURL: string;
  controllerManagerPort: number;
  schedulerPort: number;
  netnsPrefix: string;
  /** Where LoadBalancer Services get addresses: `--lb-range`, by default the top of nodeSubnet. */
  lbRange: string;
  nodes: NodeLayout[];
}

export const MAX_SLOTS = 16;
export const MAX_NODES = 50;
const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/;

/** Returns an error message when `name` cannot name a cluster, else undefined. */
export function validateClusterName(name: string): string | undefined {
  if (!NAME_RE.test(name)) {
    return `invalid cluster name "${name}": use 1-12 characters a-z, 0-9 and '-', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** The network namespace prefix of a cluster; '.' cannot occur in cluster names, so prefixes never overlap. */
export function netnsPrefix(name: string): string {
  return `trellis.${name}.`;
}

export function podNetnsName(cluster: string, podUID: string): string {
  return `${netnsPrefix(cluster)}pod.${podUID}`;
}

export function clusterLayout(
  name: string,
  slot: number,
  nodeCount: number,
  clustersDir: string,
  lbRange?: string,
): ClusterLayout {
  const err = validateClusterName(name);
  if (err) throw new Error(err);
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS)
    throw new Error(`cluster slot ${slot} out of range 0..${MAX_SLOTS - 1}`);
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > MAX_NODES) {
    throw new Error(`node count ${nodeCount} out of range 1..${MAX_NODES}`);
  }
  const stateDir = `${clustersDir}/${name}`;
  const hostIP = `172.28.${slot}.1`;
  const nodes: NodeLayout[] = [];
  for (let i = 1; i <= nodeCount; i++) {
    const nodeName = `${name}-node${i}`;
    nodes.push({
      name: nodeName,
      index: i,
      netns: `${netnsPrefix(name)}node${i}`,
      ip: `172.28.${slot}.${10 + i}`,
      hostVeth: `tlh${slot}n${i}`,
      nodeVeth: 'eth0',
      dir: `${stateDir}/nodes/${nodeName}`,
    });
  }
  const apiServerPort = 6443;
  return {
    name,
    slot,
    stateDir,
    bridge: `tl-${name}`.slice(0, 15),
    hostIP,
    nodeSubnet: `172.28.${slot}.0/24`,
    clusterCIDR: `10.${240 + slot}.0.0/16`,
    serviceCIDR: `10.${96 + slot}.0.0/16`,
    kubernetesServiceIP: `10.${96 + slot}.0.1`,
    clusterDNSIP: `10.${96 + slot}.0.10`,
    apiServerPort,
    apiServerURL: `https://${hostIP}:${apiServerPort}`,
    etcdClientURL: `http://127.0.0.1:${12379 + slot * 2}`,
    etcdPeerURL: `http://127.0.0.1:${12380 + slot * 2}`,
    controllerManagerPort: 11000 + slot * 10 + 7,
    schedulerPort: 11000 + slot * 10 + 9,
    netnsPrefix: netnsPrefix(name),
    // .192-.254 of the node network: owned by this cluster like the rest of it, so it can collide
    // neither with the host's networks nor with another cluster's (each has its own slot).
    lbRange: lbRange ?? `172.28.${slot}.192/26`,
    nodes,
  };
}
