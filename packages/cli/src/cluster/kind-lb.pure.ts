// LoadBalancer Services on a kind cluster (Linux host, root): the local cluster's load-balancer
// controller (@trellis/local-cluster) serves them, routing each address on the host over the kind
// network's bridge to a node. Here, decided without running anything: the bridge and subnet of the
// kind network (from `docker network inspect`), the default address range, and the controller's
// credentials (from kubeadm's kubeconfig).
import { parse } from 'yaml';

export interface KindNetworkFacts {
  /** The Linux bridge of the network on the host. */
  readonly bridge: string;
  /** The network's IPv4 subnet, e.g. 172.18.0.0/16. */
  readonly subnet: string;
}

/** Docker names a bridge network's Linux bridge after the network id unless an option sets it. */
export function kindNetworkFacts(inspectJson: string, network: string): KindNetworkFacts {
  const [n] = JSON.parse(inspectJson) as Array<{
    Id: string;
    Driver: string;
    Options?: Record<string, string>;
    IPAM?: { Config?: Array<{ Subnet?: string }> };
  }>;
  if (!n) throw new Error(`docker network inspect ${network}: no such network`);
  if (n.Driver !== 'bridge')
    throw new Error(`docker network ${network} uses the ${n.Driver} driver, not bridge`);
  const subnet = (n.IPAM?.Config ?? [])
    .map((c) => c.Subnet ?? '')
    .find((s) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s));
  if (!subnet) throw new Error(`docker network ${network} has no IPv4 subnet`);
  return {
    bridge: n.Options?.['com.docker.network.bridge.name'] || `br-${n.Id.slice(0, 12)}`,
    subnet,
  };
}

/**
 * The default range: the top block of the kind network's subnet, a quarter of it but at most a
 * /24 (172.18.255.0/24 of 172.18.0.0/16: .1-.254 once its first and last addresses are left out).
 * Docker's IPAM gives a network's containers the lowest free addresses (the gateway .1, then .2,
 * .3, ... for kind's nodes, reusing released ones), so the top stays free until the network holds
 * more containers than the addresses below it. Throws when the subnet is too small to spare one.
 */
export function defaultKindLbRange(subnet: string): string {
  const [addr, lenText] = subnet.split('/');
  const len = Number(lenText);
  const block = Math.max(len + 2, 24);
  if (block > 29)
    throw new Error(
      `the kind network's subnet ${subnet} is too small to spare addresses for LoadBalancer Services; give --lb-range`,
    );
  const base = addr!.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - len);
  const top = base - (base % size) + size - 2 ** (32 - block);
  const ip = [top >>> 24, (top >>> 16) & 255, (top >>> 8) & 255, top & 255].join('.');
  return `${ip}/${block}`;
}

export interface ClientCredentials {
  readonly server: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

const b64 = (s: unknown, what: string): string => {
  if (typeof s !== 'string' || !s) throw new Error(`the kubeconfig has no ${what}`);
  return Buffer.from(s, 'base64').toString('utf8');
};

/** The first cluster's server and CA, and the first user's client certificate and key. */
export function kubeconfigCredentials(text: string): ClientCredentials {
  const doc = parse(text) as {
    clusters?: Array<{ cluster?: Record<string, string> }>;
    users?: Array<{ user?: Record<string, string> }>;
  };
  const cluster = doc?.clusters?.[0]?.cluster ?? {};
  const user = doc?.users?.[0]?.user ?? {};
  return {
    server: cluster['server'] ?? '',
    caPem: b64(cluster['certificate-authority-data'], 'certificate-authority-data'),
    certPem: b64(user['client-certificate-data'], 'client-certificate-data'),
    keyPem: b64(user['client-key-data'], 'client-key-data'),
  };
}

/** Why this host cannot route load-balancer addresses to kind's nodes, or undefined when it can. */
export function kindLbUnsupported(o: {
  readonly platform: string;
  readonly uid: number | undefined;
  readonly bridgeOnHost: boolean;
  readonly bridge: string;
}): string | undefined {
  if (o.platform !== 'linux')
    return `Docker's networks are not on this host (${o.platform}): run cloud-provider-kind`;
  if (o.uid !== 0) return 'routing the addresses on this host needs root';
  if (!o.bridgeOnHost)
    return `the kind network's bridge ${o.bridge} is not in this host's network namespace (rootless Docker or Docker in a VM): run cloud-provider-kind`;
  return undefined;
}
