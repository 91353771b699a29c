// The in-pod redirection as native nftables (pure): the same rules as inpod-iptables.ts, written as
// one `nft -f` script of `inet` tables (Istio 1.28's names), flushed and refilled in one transaction.
import {
  CONNECTION_MARK,
  DNS_PORT,
  HBONE_PORT,
  INBOUND_PLAINTEXT_PORT,
  MARK_MASK,
  OUTBOUND_PORT,
  ZTUNNEL_MARK,
  hex,
  hostPrefix,
  loopbackAddress,
  probeSourceAddress,
  type IpFamily,
} from './constants.js';

export const NFT_NAT_TABLE = 'istio-ambient-nat';
export const NFT_MANGLE_TABLE = 'istio-ambient-mangle';
export const NFT_RAW_TABLE = 'istio-ambient-raw';
/** Every table the in-pod rules may create (removal deletes those that exist). */
export const NFT_INPOD_TABLES = [NFT_NAT_TABLE, NFT_MANGLE_TABLE, NFT_RAW_TABLE] as const;

export interface InpodNftOptions {
  families: readonly IpFamily[];
  dnsCapture?: boolean;
}

const isZtunnel = `meta mark & ${hex(MARK_MASK)} == ${hex(ZTUNNEL_MARK)}`;
const notZtunnel = `meta mark & ${hex(MARK_MASK)} != ${hex(ZTUNNEL_MARK)}`;
const ip = (f: IpFamily) => (f === 4 ? 'ip' : 'ip6');

function baseTable(name: string, hooks: { prerouting: string; output: string }): string[] {
  const t = `inet ${name}`;
  return [
    `add table ${t}`,
    `flush table ${t}`,
    `add chain ${t} prerouting { ${hooks.prerouting} ; }`,
    `add chain ${t} output { ${hooks.output} ; }`,
    `add chain ${t} istio-prerouting`,
    `add chain ${t} istio-output`,
    `add rule ${t} prerouting jump istio-prerouting`,
    `add rule ${t} output jump istio-output`,
  ];
}

/** `nft -f` input for the in-pod rules of the given families. */
export function inpodNftablesRules(options: InpodNftOptions): string {
  const { families, dnsCapture = false } = options;
  if (families.length === 0 || families.some((f) => f !== 4 && f !== 6))
    throw new TypeError(`inpodNftablesRules: families must be 4 and/or 6, got [${families}]`);
  const nat = `inet ${NFT_NAT_TABLE}`;
  const pre = (r: string) => `add rule ${nat} istio-prerouting ${r}`;
  const out = (r: string) => `add rule ${nat} istio-output ${r}`;
  const notLoopback = (f: IpFamily) => `${ip(f)} daddr != ${loopbackAddress(f)}${hostPrefix(f)}`;
  const lines = baseTable(NFT_NAT_TABLE, {
    prerouting: 'type nat hook prerouting priority -100',
    output: 'type nat hook output priority -100',
  });
  for (const f of families) {
    lines.push(pre(`meta l4proto tcp ${ip(f)} saddr ${probeSourceAddress(f)} counter accept`));
    lines.push(out(`meta l4proto tcp ${ip(f)} daddr ${probeSourceAddress(f)} counter accept`));
  }
  for (const f of families)
    lines.push(
      pre(
        `${notLoopback(f)} tcp dport != ${HBONE_PORT} ${notZtunnel} counter redirect to :${INBOUND_PLAINTEXT_PORT}`,
      ),
    );
  if (dnsCapture) {
    lines.push(out(`oifname != "lo" ${notZtunnel} udp dport 53 counter redirect to :${DNS_PORT}`));
    for (const f of families)
      lines.push(
        out(`${notLoopback(f)} ${notZtunnel} tcp dport 53 counter redirect to :${DNS_PORT}`),
      );
  }
  lines.push(
    out(`meta l4proto tcp meta mark & ${hex(MARK_MASK)} == ${hex(CONNECTION_MARK)} counter accept`),
  );
  for (const f of families) lines.push(out(`oifname "lo" ${notLoopback(f)} counter accept`));
  for (const f of families)
    lines.push(
      out(`meta l4proto tcp ${notLoopback(f)} ${notZtunnel} counter redirect to :${OUTBOUND_PORT}`),
    );

  const mangle = `inet ${NFT_MANGLE_TABLE}`;
  lines.push(
    ...baseTable(NFT_MANGLE_TABLE, {
      prerouting: 'type filter hook prerouting priority -150',
      output: 'type route hook output priority -150',
    }),
    `add rule ${mangle} istio-prerouting ${isZtunnel} counter ct mark set ct mark & 0xfffff000 | ${hex(CONNECTION_MARK)}`,
    `add rule ${mangle} istio-output ct mark & ${hex(MARK_MASK)} == ${hex(CONNECTION_MARK)} counter meta mark set ct mark`,
  );

  if (dnsCapture) {
    const raw = `inet ${NFT_RAW_TABLE}`;
    lines.push(
      ...baseTable(NFT_RAW_TABLE, {
        prerouting: 'type filter hook prerouting priority -300',
        output: 'type filter hook output priority -300',
      }),
      `add rule ${raw} istio-output udp dport 53 ${isZtunnel} counter ct zone set 1`,
      `add rule ${raw} istio-prerouting udp sport 53 ${notZtunnel} counter ct zone set 1`,
    );
  }
  return lines.join('\n') + '\n';
}
