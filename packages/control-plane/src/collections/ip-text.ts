// IP address text checks for the pure collections and translators: core's one IP parser (pure
// modules do no I/O and import no sockets). `normalizeIP` is core's canonical form: IPv4-mapped
// IPv6 as IPv4, other IPv6 in RFC 5952 form.
export {
  canonicalIp as normalizeIP,
  ipToBytes as ipBytes,
  isIP,
  isIPv4,
  isIPv6,
} from '@trellis/core';
