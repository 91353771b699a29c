// Marks, ports and addresses shared by the in-pod redirection rules (DESIGN.md §2, istio-cni ambient).

/** SO_MARK on ztunnel's own sockets; its packets are never redirected. */
export const ZTUNNEL_MARK = 0x539;
/** Connection mark given to connections ztunnel's sockets make, routed back to it via table 100. */
export const CONNECTION_MARK = 0x111;
export const MARK_MASK = 0xfff;
export const ROUTE_TABLE = 100;
export const RULE_PRIORITY = 32764;

export const OUTBOUND_PORT = 15001;
export const INBOUND_PLAINTEXT_PORT = 15006;
export const HBONE_PORT = 15008;
export const DNS_PORT = 15053;

export type IpFamily = 4 | 6;

/** The address kubelet probes are SNATed to on the host, per family. */
export function probeSourceAddress(family: IpFamily): string {
  return family === 4 ? '169.254.7.127' : 'fd16:9254:7127:1337:ffff:ffff:ffff:ffff';
}

export function loopbackAddress(family: IpFamily): string {
  return family === 4 ? '127.0.0.1' : '::1';
}

export function hostPrefix(family: IpFamily): string {
  return family === 4 ? '/32' : '/128';
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
