// `ip:port` authorities as HBONE uses them: a CONNECT `:authority` must be an IPv4 address or a
// bracketed IPv6 address, then a port. Addresses are read by core's one IP parser. Pure: no
// sockets, no DNS.
import { canonicalIp, clip, isIPv4, isIPv6, type Result } from '@trellis/core';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** A parsed `:authority`: a canonical IP literal and a port in 1..65535. */
export interface Target extends Endpoint {
  readonly family: 4 | 6;
}

/** Parses a CONNECT `:authority` such as `10.0.0.5:8080` or `[fd00::5]:8080`. */
export function parseAuthority(authority: string): Result<Target> {
  // The client's text is quoted in answers and logs: at most 100 characters of it.
  const quoted = JSON.stringify(clip(authority, 100));
  const bad = (why: string): Result<Target> => ({
    ok: false,
    reason: `authority ${quoted} is not ip:port: ${clip(why, 160)}`,
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
  const bracketed = authority.startsWith('[');
  const address = (bracketed ? isIPv6(host) : isIPv4(host)) ? canonicalIp(host) : undefined;
  if (address === undefined) {
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
