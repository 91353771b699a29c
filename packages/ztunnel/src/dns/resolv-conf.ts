// The nameservers of a resolv.conf (ztunnel's own: where it forwards the queries it does not
// answer, as upstream ztunnel does). Pure.
import { canonicalIp } from '../net/ip.js';

/** `nameserver` lines, in order; a zone index (fe80::1%eth0) or a bad address is skipped. */
export function resolvConfNameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [keyword, value] = line
      .replace(/[#;].*/, '')
      .trim()
      .split(/\s+/);
    if (keyword !== 'nameserver' || !value) continue;
    const ip = canonicalIp(value);
    if (ip !== undefined) out.push(ip);
  }
  return out;
}
