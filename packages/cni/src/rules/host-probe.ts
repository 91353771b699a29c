// The host-side rule that SNATs kubelet's health probes to the well-known probe address (pure),
// so the in-pod rules can let them bypass ztunnel.
import { probeSourceAddress, type IpFamily } from './constants.js';

export const HOST_POSTROUTING_CHAIN = 'ISTIO_POSTRT';

export interface HostProbeOptions {
  family: IpFamily;
  /** The ipset holding the addresses of redirected pods on this node. */
  ipset: string;
}

/**
 * `iptables-restore --noflush` input for the node's netns: TCP from local sockets (kubelet) to a
 * redirected pod leaves with source 169.254.7.127 (IPv6: fd16:9254:7127:1337:ffff:ffff:ffff:ffff).
 */
export function hostProbeRules(options: HostProbeOptions): string {
  const { family, ipset } = options;
  if (family !== 4 && family !== 6)
    throw new TypeError(`hostProbeRules: family must be 4 or 6, got ${String(family)}`);
  if (!/^[A-Za-z0-9_.-]{1,31}$/.test(ipset)) {
    throw new TypeError(`hostProbeRules: ipset name '${ipset}' must be 1-31 of [A-Za-z0-9_.-]`);
  }
  const probe = probeSourceAddress(family);
  return [
    '*nat',
    `:${HOST_POSTROUTING_CHAIN} - [0:0]`,
    `-A POSTROUTING -j ${HOST_POSTROUTING_CHAIN}`,
    `-A ${HOST_POSTROUTING_CHAIN} -m owner --socket-exists -p tcp -m set --match-set ${ipset} dst -j SNAT --to-source ${probe}`,
    'COMMIT',
    '',
  ].join('\n');
}
