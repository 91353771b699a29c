// The protocol-neutral request and response heads the engine routes and filters. Downstream and
// upstream codecs (our HTTP/1.1 codec, node:http2) translate to and from these.
import type { HeaderList } from './headers.pure.js';

export type HttpProtocol = 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';

export interface RequestHead {
  method: string;
  /** "http" or "https": HTTP/1.1 has none on the wire, so the listener's (x-forwarded-proto). */
  scheme: string;
  /** Host (HTTP/1.1) or :authority (HTTP/2). */
  authority: string;
  /** Path and query, as received (origin form). */
  path: string;
  /** Everything else, lowercase names, without pseudo-headers, Host or hop-by-hop headers. */
  headers: HeaderList;
  readonly protocol: HttpProtocol;
  /** HTTP/1.1 only: the Upgrade token (lowercase) when Connection names upgrade, e.g. websocket. */
  readonly upgrade?: string;
}

export interface ResponseHead {
  status: number;
  headers: HeaderList;
}

/** The path without its query string. */
export function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/** Standard reason phrases for the status line (HTTP/1.1 ignores them, people read them). */
const REASONS: Record<number, string> = {
  100: 'Continue',
  101: 'Switching Protocols',
  103: 'Early Hints',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  206: 'Partial Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  411: 'Length Required',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}

/** Whether a response to `method` with `status` carries no body whatever its headers say. */
export function responseHasNoBody(method: string, status: number): boolean {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
}
