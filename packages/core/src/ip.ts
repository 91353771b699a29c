// The one IP address parser of Trellis: text to the raw bytes the WDS and Authorization messages
// carry and back, canonical strings, families and CIDR ranges. Canonical form: dotted quad for
// IPv4 (IPv4-mapped IPv6 such as "::ffff:10.0.0.1", which a dual-stack socket reports, becomes
// "10.0.0.1"), RFC 5952 for IPv6 (lowercase, longest zero run compressed). Refused: leading zeros
// in IPv4 parts (some parsers read them as octal), zone ids ("fe80::1%eth0"), host names. Pure: no
// I/O, no node:net.
import { ok, refused, type Result } from './result.js';

/** Parses "10.0.0.1" or "fd00::1" into 4 or 16 bytes; undefined when it is not an IP address. */
export function ipToBytes(text: string): Uint8Array | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** Formats 4 or 16 bytes canonically; undefined for any other length. */
export function ipFromBytes(bytes: Uint8Array): string | undefined {
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.length !== 16) return undefined;
  if (isV4Mapped(bytes)) return bytes.subarray(12).join('.');
  return formatIpv6(bytes);
}

/** The canonical form of an IP address string; undefined when it is not one. */
export function canonicalIp(text: string): string | undefined {
  // A valid dotted quad is already canonical (the common case of every lookup).
  if (!text.includes(':')) return parseIpv4(text) ? text : undefined;
  const bytes = ipToBytes(text);
  return bytes && ipFromBytes(bytes);
}

/** 4 or 6 for an IP address (IPv4-mapped IPv6 counts as 4), undefined otherwise. */
export function ipFamily(text: string): 4 | 6 | undefined {
  const canonical = canonicalIp(text);
  if (canonical === undefined) return undefined;
  return canonical.includes(':') ? 6 : 4;
}

/** A dotted-quad IPv4 address as written (no IPv6 notation). */
export function isIPv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}

/** An address in IPv6 notation (including "::ffff:10.0.0.1"). */
export function isIPv6(text: string): boolean {
  return text.includes(':') && parseIpv6(text) !== undefined;
}

export function isIP(text: string): boolean {
  return ipToBytes(text) !== undefined;
}

/** 127.0.0.0/8 or ::1 (also as "::ffff:127.0.0.1"): traffic that never left this host. */
export function isLoopbackIp(text: string): boolean {
  const canonical = canonicalIp(text);
  return canonical === '::1' || (canonical !== undefined && canonical.startsWith('127.'));
}

/** An IP range: canonical network address and prefix length. */
export interface Cidr {
  readonly address: string;
  readonly prefixLength: number;
}

/** Parses "10.0.0.0/8" or a bare address (a single host), or says what is wrong. */
export function parseCidr(text: string): Result<Cidr> {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const bytes = ipToBytes(addressText);
  if (!bytes) return refused(`${JSON.stringify(addressText)} is not an IP address`);
  const max = maxPrefix(bytes);
  if (slash === -1) return ok({ address: ipFromBytes(bytes)!, prefixLength: max });
  const lengthText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lengthText) || Number(lengthText) > max) {
    return refused(`prefix length ${JSON.stringify(lengthText)} must be 0 to ${max}`);
  }
  return ok({ address: ipFromBytes(bytes)!, prefixLength: Number(lengthText) });
}

/** Bits in an address of this family: 32 or 128 (IPv4-mapped IPv6 counts as IPv4). */
export function maxPrefix(bytes: Uint8Array): number {
  return bytes.length === 4 || isV4Mapped(bytes) ? 32 : 128;
}

/** True when `ip` lies in `cidr`. Addresses of different families never match. */
export function cidrContains(cidr: Cidr, ip: string): boolean {
  const net = ipToBytes(cidr.address);
  const addr = ipToBytes(ip);
  if (!net || !addr) return false;
  const a = toFamilyBytes(net);
  const b = toFamilyBytes(addr);
  if (a.length !== b.length) return false;
  let bits = cidr.prefixLength;
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[i] & mask) !== (b[i] & mask)) return false;
  }
  return true;
}

/**
 * The network address of `ip` in a range of `prefixLength` bits, canonically: "10.1.2.0" for
 * ("10.1.2.3", 24). Undefined when `ip` is not an address or the length exceeds its family's bits.
 * Together with a map keyed by it, a range lookup costs one probe per prefix length in use.
 */
export function networkAddress(ip: string, prefixLength: number): string | undefined {
  const bytes = ipToBytes(ip);
  if (!bytes) return undefined;
  const family = toFamilyBytes(bytes);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > family.length * 8)
    return undefined;
  const out = new Uint8Array(family);
  for (let i = 0, bits = prefixLength; i < out.length; i++, bits -= 8) {
    if (bits >= 8) continue;
    out[i] = bits <= 0 ? 0 : out[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return ipFromBytes(out);
}

function toFamilyBytes(bytes: Uint8Array): Uint8Array {
  return bytes.length === 16 && isV4Mapped(bytes) ? bytes.subarray(12) : bytes;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function parseIpv4(text: string): Uint8Array | undefined {
  // A loop over the characters: this runs for every lookup key of every connection.
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a '.' closes the last part
    if (c === 46) {
      if (digits === 0 || part > 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // Leading zeros are refused: some parsers read them as octal.
      if (digits > 0 && value === 0) return undefined;
      value = value * 10 + (c - 48);
      if (value > 255) return undefined;
      digits++;
    } else {
      return undefined;
    }
  }
  return part === 4 ? out : undefined;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (!head || !tail) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // The longest run of two or more zero groups is written as "::" (the first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
