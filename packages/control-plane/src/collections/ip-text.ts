// IP address text checks for the pure collections and translators: core's one IP parser (pure
// modules do no I/O and import no sockets).
export { ipToBytes as ipBytes, isIP, isIPv4, isIPv6 } from '@trellis/core';
