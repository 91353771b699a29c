// The host-side SNAT of kubelet probes as native nftables (pure): TCP from a local socket to a
// redirected pod (an address in the probe set) leaves with the probe source address.
import { probeSourceAddress, type IpFamily } from './constants.js';

export const NFT_HOST_TABLE = 'istio-ambient-nat';

export function nftProbeSet(family: IpFamily): string {
  return family === 4 ? 'istio-inpod-probes-v4' : 'istio-inpod-probes-v6';
}

/**
 * `nft -f` input creating (or refilling) the host table: one address set per family, kept by the
 * agent, and the postrouting SNAT. `meta skuid >= 0` only matches packets that have a local socket.
 */
export function hostProbeNftablesRules(families: readonly IpFamily[]): string {
  if (families.length === 0 || families.some((f) => f !== 4 && f !== 6))
    throw new TypeError(`hostProbeNftablesRules: families must be 4 and/or 6, got [${families}]`);
  const t = `inet ${NFT_HOST_TABLE}`;
  const lines = [
    `add table ${t}`,
    `add chain ${t} postrouting { type nat hook postrouting priority 100 ; }`,
    `flush chain ${t} postrouting`,
  ];
  for (const f of families) {
    const type = f === 4 ? 'ipv4_addr' : 'ipv6_addr';
    lines.push(`add set ${t} ${nftProbeSet(f)} { type ${type} ; }`);
  }
  for (const f of families) {
    const ip = f === 4 ? 'ip' : 'ip6';
    lines.push(
      `add rule ${t} postrouting meta l4proto tcp meta skuid >= 0 ${ip} daddr @${nftProbeSet(f)} counter snat ${ip} to ${probeSourceAddress(f)}`,
    );
  }
  return lines.join('\n') + '\n';
}
