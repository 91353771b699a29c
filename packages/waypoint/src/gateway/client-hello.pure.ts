// What Envoy's tls_inspector reads from the first bytes of a connection: whether it is TLS, and
// from the ClientHello the server name (SNI) and the ALPN protocols offered. The handshake message
// may span several TLS records; the bytes are only read, never consumed. Pure.

export type HelloInspection =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'not-tls' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'tls'; readonly sni?: string; readonly alpn: readonly string[] };

/** A ClientHello larger than this is refused (real ones are a few KiB). */
export const MAX_CLIENT_HELLO = 64 * 1024;

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;

const NEED_MORE: HelloInspection = { kind: 'need-more' };

export function inspectClientHello(buf: Buffer): HelloInspection {
  if (buf.length === 0) return NEED_MORE;
  if (buf[0] !== HANDSHAKE) return { kind: 'not-tls' };
  if (buf.length >= 2 && buf[1] !== 0x03) return { kind: 'not-tls' };
  // Join the payloads of the handshake records until the ClientHello is complete.
  const parts: Buffer[] = [];
  let have = 0;
  let want = -1;
  let off = 0;
  while (want < 0 || have < want) {
    if (off + 5 > buf.length) return more(buf);
    if (buf[off] !== HANDSHAKE)
      return { kind: 'invalid', reason: 'ClientHello interrupted by a non-handshake record' };
    const len = buf.readUInt16BE(off + 3);
    if (len === 0) return { kind: 'invalid', reason: 'empty TLS record' };
    if (off + 5 + len > buf.length) return more(buf);
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (want < 0 && have >= 4) {
      const head = Buffer.concat(parts);
      if (head[0] !== CLIENT_HELLO)
        return {
          kind: 'invalid',
          reason: `first handshake message is type ${head[0]}, not ClientHello`,
        };
      want = 4 + head.readUIntBE(1, 3);
      if (want > MAX_CLIENT_HELLO) return { kind: 'invalid', reason: 'ClientHello too large' };
    }
  }
  try {
    return parseHello(Buffer.concat(parts).subarray(4, want));
  } catch {
    return { kind: 'invalid', reason: 'malformed ClientHello' };
  }
}

function more(buf: Buffer): HelloInspection {
  return buf.length > MAX_CLIENT_HELLO + 5 * 16
    ? { kind: 'invalid', reason: 'ClientHello too large' }
    : NEED_MORE;
}

/** Parses the ClientHello body; throws RangeError on truncation. */
function parseHello(b: Buffer): HelloInspection {
  let p = 2 + 32; // client_version, random
  p += 1 + b.readUInt8(p); // session_id
  p += 2 + b.readUInt16BE(p); // cipher_suites
  p += 1 + b.readUInt8(p); // compression_methods
  if (p === b.length) return { kind: 'tls', alpn: [] }; // no extensions
  const end = p + 2 + b.readUInt16BE(p);
  if (end > b.length) throw new RangeError('extensions overrun');
  p += 2;
  let sni: string | undefined;
  let alpn: string[] = [];
  while (p + 4 <= end) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    const data = b.subarray(p + 4, p + 4 + len);
    if (data.length !== len) throw new RangeError('extension overrun');
    if (type === EXT_SERVER_NAME) sni = serverName(data);
    else if (type === EXT_ALPN) alpn = protocols(data);
    p += 4 + len;
  }
  return { kind: 'tls', ...(sni !== undefined ? { sni } : {}), alpn };
}

function serverName(d: Buffer): string | undefined {
  let p = 2;
  const end = 2 + d.readUInt16BE(0);
  while (p + 3 <= end) {
    const type = d.readUInt8(p);
    const len = d.readUInt16BE(p + 1);
    if (type === 0)
      return d
        .subarray(p + 3, p + 3 + len)
        .toString('latin1')
        .toLowerCase();
    p += 3 + len;
  }
  return undefined;
}

function protocols(d: Buffer): string[] {
  const out: string[] = [];
  let p = 2;
  const end = Math.min(d.length, 2 + d.readUInt16BE(0));
  while (p < end) {
    const len = d.readUInt8(p);
    out.push(d.subarray(p + 1, p + 1 + len).toString('latin1'));
    p += 1 + len;
  }
  return out;
}
