// The iptables-restore input applied inside each pod's network namespace (pure).
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

/** Our own chains, hooked from the built-in ones (same names as istio-cni). */
export const PREROUTING_CHAIN = 'ISTIO_PRERT';
export const OUTPUT_CHAIN = 'ISTIO_OUTPUT';

export interface InpodRulesOptions {
  family: IpFamily;
  /** Redirect DNS (UDP and TCP port 53) to ztunnel's DNS proxy on 15053. */
  dnsCapture?: boolean;
}

const ztunnelMark = `${hex(ZTUNNEL_MARK)}/${hex(MARK_MASK)}`;
const connectionMark = `${hex(CONNECTION_MARK)}/${hex(MARK_MASK)}`;

function table(name: string, rules: string[]): string[] {
  return [
    `*${name}`,
    `:${PREROUTING_CHAIN} - [0:0]`,
    `:${OUTPUT_CHAIN} - [0:0]`,
    `-A PREROUTING -j ${PREROUTING_CHAIN}`,
    `-A OUTPUT -j ${OUTPUT_CHAIN}`,
    ...rules,
    'COMMIT',
  ];
}

/**
 * The rules for one family as `iptables-restore --noflush` / `ip6tables-restore --noflush` input
 * (the built-in chains keep their other rules; ours are created or flushed).
 */
export function inpodIptablesRules(options: InpodRulesOptions): string {
  const { family, dnsCapture = false } = options;
  if (family !== 4 && family !== 6)
    throw new TypeError(`inpodIptablesRules: family must be 4 or 6, got ${String(family)}`);
  const probe = probeSourceAddress(family) + hostPrefix(family);
  const loopback = loopbackAddress(family) + hostPrefix(family);

  const mangle = table('mangle', [
    `-A ${PREROUTING_CHAIN} -m mark --mark ${ztunnelMark} -j CONNMARK --set-xmark ${connectionMark}`,
    `-A ${OUTPUT_CHAIN} -m connmark --mark ${connectionMark} -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff`,
  ]);

  const dns = dnsCapture
    ? [
        `-A ${OUTPUT_CHAIN} ! -o lo -p udp -m mark ! --mark ${ztunnelMark} -m udp --dport 53 -j REDIRECT --to-ports ${DNS_PORT}`,
        `-A ${OUTPUT_CHAIN} ! -d ${loopback} -p tcp -m mark ! --mark ${ztunnelMark} -m tcp --dport 53 -j REDIRECT --to-ports ${DNS_PORT}`,
      ]
    : [];
  const nat = table('nat', [
    `-A ${PREROUTING_CHAIN} -s ${probe} -p tcp -j ACCEPT`,
    `-A ${PREROUTING_CHAIN} ! -d ${loopback} -p tcp -m tcp ! --dport ${HBONE_PORT} -m mark ! --mark ${ztunnelMark} -j REDIRECT --to-ports ${INBOUND_PLAINTEXT_PORT}`,
    `-A ${OUTPUT_CHAIN} -d ${probe} -p tcp -j ACCEPT`,
    ...dns,
    `-A ${OUTPUT_CHAIN} -p tcp -m mark --mark ${connectionMark} -j ACCEPT`,
    `-A ${OUTPUT_CHAIN} ! -d ${loopback} -o lo -j ACCEPT`,
    `-A ${OUTPUT_CHAIN} ! -d ${loopback} -p tcp -m mark ! --mark ${ztunnelMark} -j REDIRECT --to-ports ${OUTBOUND_PORT}`,
  ]);

  // With DNS capture, the app's query (redirected to 15053) and ztunnel's forwarded query can share
  // a 5-tuple; conntrack zone 1 keeps the forwarded one (marked 0x539) and its replies apart.
  const raw = dnsCapture
    ? table('raw', [
        `-A ${PREROUTING_CHAIN} -p udp -m mark ! --mark ${ztunnelMark} -m udp --sport 53 -j CT --zone 1`,
        `-A ${OUTPUT_CHAIN} -p udp -m mark --mark ${ztunnelMark} -m udp --dport 53 -j CT --zone 1`,
      ])
    : [];

  return [...mangle, ...nat, ...raw].join('\n') + '\n';
}
