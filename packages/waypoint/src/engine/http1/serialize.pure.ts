// HTTP/1.1 heads and chunks as bytes. Heads are built as one latin1 string (header values were
// validated when they were parsed or configured: no CR, LF or NUL can reach here).
import type { HeaderList } from '../http/headers.pure.js';
import { reasonPhrase } from '../http/message.pure.js';

/** How the body that follows a head is framed on this hop. */
export type OutFraming = 'none' | 'length' | 'chunked' | 'close';

/**
 * A request head. `headers` must already be free of hop-by-hop headers; with 'chunked' the
 * Transfer-Encoding header is added here, with 'length' a content-length must be in `headers`.
 */
export function requestHead(
  method: string,
  path: string,
  host: string,
  headers: HeaderList,
  framing: OutFraming,
): string {
  let s = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  if (framing === 'chunked') s += 'transfer-encoding: chunked\r\n';
  return `${s}\r\n`;
}

/** A response head for an HTTP/1.x client; `close` adds Connection: close. */
export function responseHead(
  status: number,
  headers: HeaderList,
  framing: OutFraming,
  close: boolean,
  minor: 0 | 1 = 1,
): string {
  let s = `HTTP/1.${minor} ${status} ${reasonPhrase(status)}\r\n`;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  if (framing === 'chunked') s += 'transfer-encoding: chunked\r\n';
  if (close) s += 'connection: close\r\n';
  else if (minor === 0) s += 'connection: keep-alive\r\n';
  return `${s}\r\n`;
}

/** An informational (1xx) head. */
export function informationalHead(status: number, headers: HeaderList): string {
  return responseHead(status, headers, 'none', false);
}

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** One chunk of a chunked body: size line, data, CRLF (as one buffer). */
export function chunk(data: Buffer): Buffer {
  const size = Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1');
  return Buffer.concat([size, data, CRLF], size.length + data.length + 2);
}

/** The last chunk, with trailers when given. */
export function lastChunk(trailers?: HeaderList): Buffer {
  if (!trailers || trailers.length === 0) return LAST_CHUNK;
  let s = '0\r\n';
  for (let i = 0; i < trailers.length; i += 2) s += `${trailers[i]}: ${trailers[i + 1]}\r\n`;
  return Buffer.from(`${s}\r\n`, 'latin1');
}
