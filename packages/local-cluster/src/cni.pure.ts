// CNI runtime logic as pure functions: the node's default network list, the stdin and environment
// each plugin of a chain receives for ADD/DEL (CNI spec 1.0, as containerd/CRI-O pass them).

export interface NetConfList {
  cniVersion: string;
  name: string;
  plugins: Array<Record<string, unknown> & { type: string }>;
}

export interface CniPodRef {
  containerID: string;
  netnsPath: string;
  ifName: string;
  podName: string;
  podNamespace: string;
  podUID: string;
}

/** The primary network of a node: Debian's bridge + host-local on the node's pod CIDR. */
export function defaultConflist(podCIDR: string, ipamDataDir: string): NetConfList {
  return {
    cniVersion: '1.0.0',
    name: 'trellis-pod-network',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: podCIDR }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: ipamDataDir,
        },
      },
    ],
  };
}

/** Validates a parsed .conflist document; throws with what is wrong. */
export function parseConflist(text: string, source: string): NetConfList {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON: ${(e as Error).message}`, { cause: e });
  }
  const d = doc as Partial<NetConfList>;
  if (
    typeof d.name !== 'string' ||
    typeof d.cniVersion !== 'string' ||
    !Array.isArray(d.plugins) ||
    d.plugins.length === 0
  ) {
    throw new Error(
      `${source}: a conflist needs "name", "cniVersion" and a non-empty "plugins" array`,
    );
  }
  for (const p of d.plugins) {
    if (typeof p?.type !== 'string') throw new Error(`${source}: every plugin needs a "type"`);
  }
  return d as NetConfList;
}

/** The config file a runtime uses from a conf dir: the first .conflist/.conf/.json by name. */
export function pickConfFile(fileNames: string[]): string | undefined {
  return fileNames.filter((f) => /\.(conflist|conf|json)$/.test(f)).sort()[0];
}

/** A single-plugin .conf is turned into a one-element list, as libcni does. */
export function toConflist(text: string, fileName: string): NetConfList {
  if (fileName.endsWith('.conflist')) return parseConflist(text, fileName);
  const p = JSON.parse(text) as Record<string, unknown> & {
    type: string;
    name: string;
    cniVersion: string;
  };
  return parseConflist(
    JSON.stringify({ cniVersion: p.cniVersion, name: p.name, plugins: [p] }),
    fileName,
  );
}

export function pluginStdin(list: NetConfList, index: number, prevResult: unknown): string {
  const plugin = list.plugins[index]!;
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  if (prevResult !== undefined) conf.prevResult = prevResult;
  return JSON.stringify(conf);
}

export function pluginEnv(
  command: 'ADD' | 'DEL' | 'CHECK',
  ref: CniPodRef,
  cniPath: string[],
): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: ref.containerID,
    CNI_NETNS: ref.netnsPath,
    CNI_IFNAME: ref.ifName,
    CNI_ARGS: [
      'IgnoreUnknown=1',
      `K8S_POD_NAMESPACE=${ref.podNamespace}`,
      `K8S_POD_NAME=${ref.podName}`,
      `K8S_POD_INFRA_CONTAINER_ID=${ref.containerID}`,
      `K8S_POD_UID=${ref.podUID}`,
    ].join(';'),
    CNI_PATH: cniPath.join(':'),
  };
}

/** The pod's IPv4 address from a CNI result (the first IP on the sandbox interface, else the first IPv4). */
export interface CniResult {
  interfaces?: Array<{ name: string; sandbox?: string }>;
  ips?: Array<{ address: string; interface?: number }>;
}

export function podIPFromResult(result: CniResult, ifName: string): string | undefined {
  const ips = result.ips ?? [];
  const ifIndex = (result.interfaces ?? []).findIndex((i) => i.name === ifName && i.sandbox);
  const chosen =
    ips.find((i) => i.interface === ifIndex && !i.address.includes(':')) ??
    ips.find((i) => !i.address.includes(':'));
  return chosen?.address.split('/')[0];
}
