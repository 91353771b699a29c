// The `forwarded` header HBONE clients send (RFC 7239 `for=` parameter) to carry the original
// source address: `forwarded: for="10.0.0.1:43210"` or `for="[fd00::1]:43210"`. Pure.
import { canonicalIp } from '@trellis/core';
import { formatAuthority, parseAuthority, type Endpoint } from './authority.pure.js';

/** The header value naming `source` as the original client: `for="ip:port"`. */
export function formatForwardedFor(source: Endpoint): string {
  return `for="${formatAuthority(source)}"`;
}

/**
 * The address in the first `for=` parameter of a `forwarded` header, or undefined when there is
 * none or it is not an IP (obfuscated identifiers, `unknown`). `port` is absent when not given.
 */
export function parseForwardedFor(
  header: string,
): { readonly address: string; readonly port?: number } | undefined {
  const first = header.split(',')[0] ?? '';
  for (const pair of first.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    const withPort = parseAuthority(value);
    if (withPort.ok) return { address: withPort.value.address, port: withPort.value.port };
    const bare = canonicalIp(
      value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value,
    );
    return bare === undefined ? undefined : { address: bare };
  }
  return undefined;
}
