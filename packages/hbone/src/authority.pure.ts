// IP literals and `ip:port` authorities as HBONE uses them: a CONNECT `:authority` must be an IPv4
// address or a bracketed IPv6 address, then a port. Pure: no sockets, no DNS.

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** A parsed `:authority`: a canonical IP literal and a port in 1..65535. */
export interface Target extends Endpoint {
  readonly family: 4 | 6;
}

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const MAPPED_DOTTED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;
const MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * The canonical text of an IP address, or undefined when `ip` is not one: IPv4 dotted quad as is,
 * IPv6 compressed and lower case, IPv4-mapped IPv6 (`::ffff:10.0.0.1`, as dual-stack sockets report
 * IPv4 peers) as plain IPv4. Zone ids (`fe80::1%eth0`) are not accepted.
 */
export function canonicalIp(ip: string): string | undefined {
  if (IPV4.test(ip)) return ip;
  const dotted = MAPPED_DOTTED.exec(ip);
  if (dotted && IPV4.test(dotted[1] as string)) return dotted[1];
  if (!/^[0-9a-fA-F:.]+$/.test(ip) || !ip.includes(':')) return undefined;
  let host: string;
  try {
    host = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const hex = MAPPED_HEX.exec(host);
  if (!hex) return host;
  const hi = parseInt(hex[1] as string, 16);
  const lo = parseInt(hex[2] as string, 16);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

/** 4 or 6 for an IP address (after canonicalIp), undefined otherwise. */
export function ipFamily(ip: string): 4 | 6 | undefined {
  const canonical = canonicalIp(ip);
  if (canonical === undefined) return undefined;
  return canonical.includes(':') ? 6 : 4;
}

/** Parses a CONNECT `:authority` such as `10.0.0.5:8080` or `[fd00::5]:8080`. */
export function parseAuthority(authority: string): Parsed<Target> {
  const bad = (why: string): Parsed<Target> => ({
    ok: false,
    reason: `authority ${JSON.stringify(authority)} is not ip:port: ${why}`,
  });
  let host: string;
  let portText: string;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return bad('missing "]" after the IPv6 address');
    if (authority[close + 1] !== ':') return bad('missing ":port" after the IPv6 address');
    host = authority.slice(1, close);
    portText = authority.slice(close + 2);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon < 0) return bad('missing ":port"');
    host = authority.slice(0, colon);
    portText = authority.slice(colon + 1);
    if (host.includes(':')) return bad('an IPv6 address must be in brackets, as [fd00::1]:80');
  }
  const address = authority.startsWith('[')
    ? canonicalIp(host)
    : IPV4.test(host)
      ? host
      : undefined;
  if (address === undefined || (authority.startsWith('[') && !host.includes(':'))) {
    return bad(`${JSON.stringify(host)} is not an IP address`);
  }
  if (!/^\d{1,5}$/.test(portText)) return bad(`port ${JSON.stringify(portText)} is not a number`);
  const port = Number(portText);
  if (port < 1 || port > 65535) return bad(`port ${port} is outside 1..65535`);
  return { ok: true, value: { address, port, family: address.includes(':') ? 6 : 4 } };
}

/** `ip:port`, with brackets around IPv6 addresses. */
export function formatAuthority(endpoint: Endpoint): string {
  return endpoint.address.includes(':')
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`;
}
