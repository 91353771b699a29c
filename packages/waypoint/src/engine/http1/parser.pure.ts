// An incremental HTTP/1.1 parser for requests (downstream) and responses (upstream), written for
// the proxy's hot path: the head is found with Buffer.indexOf and decoded as latin1 once, body
// bytes are handed on as subarrays of the input (no copy), chunked bodies are decoded. It is
// strict where a proxy must be (RFC 9112): no obs-fold, no whitespace before the colon, one
// Content-Length, never Content-Length with Transfer-Encoding in a request, chunked last, a Host in
// every HTTP/1.1 request, bounded heads; each refusal says what is wrong and carries the status a
// server answers with.
//
// execute() stops at the end of each message and returns how many bytes it used, so a caller that
// handles one exchange at a time keeps the rest (pipelined requests) until it calls reset().
import type { HeaderList } from '../http/headers.pure.js';

/** How the body of a message is delimited. */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  /** Response only: the body runs until the connection closes. */
  | { readonly kind: 'close' };

export interface ParsedRequestHead {
  readonly method: string;
  /** The request target as sent (origin form, or the path of an absolute-form target). */
  readonly target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  readonly minor: 0 | 1;
  /** Lowercase names, Host excluded; hop-by-hop headers still present. */
  readonly headers: HeaderList;
  readonly host: string;
  readonly framing: BodyFraming;
  /** Whether the client wants the connection kept after this exchange. */
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
  /** The Upgrade header when Connection names upgrade. */
  readonly upgrade: string | undefined;
}

export interface ParsedResponseHead {
  readonly status: number;
  readonly minor: 0 | 1;
  readonly headers: HeaderList;
  readonly framing: BodyFraming;
  readonly keepAlive: boolean;
}

export interface Http1Handler {
  onRequestHead?(head: ParsedRequestHead): void;
  /** Also called for 1xx heads, after which the parser reads the next head of the same response. */
  onResponseHead?(head: ParsedResponseHead): void;
  onBody(chunk: Buffer): void;
  /** The message is complete; trailers of a chunked body, if any. */
  onMessageEnd(trailers: HeaderList | undefined): void;
}

/** A message that cannot be parsed; `status` is what a server answers (400, 413, 431, 501, 505). */
export class HttpParseError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpParseError';
  }
}

/** Envoy's default max_request_headers_kb. */
export const MAX_HEAD_BYTES = 60 * 1024;
const MAX_CHUNK_LINE = 4096;

/** tchar (RFC 9110 §5.6.2): 1 for token characters, 2 for uppercase letters (also tokens). */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 2;

/** 0: not a token; 1: a lowercase token; 2: a token with uppercase letters. */
function tokenKind(s: string): number {
  if (s.length === 0) return 0;
  let kind = 1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const t = c < 128 ? TCHAR[c]! : 0;
    if (t === 0) return 0;
    if (t === 2) kind = 2;
  }
  return kind;
}

/** 1 to 15 ASCII digits. */
function isDigits(s: string, max: number): boolean {
  if (s.length === 0 || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

const NO_BODY: BodyFraming = { kind: 'none' };
const CHUNKED: BodyFraming = { kind: 'chunked' };
const UNTIL_CLOSE: BodyFraming = { kind: 'close' };
/** Whitespace or control characters (never in a request target). */
function badTarget(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c <= 32 || c === 127) return true;
  }
  return false;
}
const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  Close,
  Done,
}

export class Http1Parser {
  readonly #mode: 'request' | 'response';
  readonly #handler: Http1Handler;
  #state = State.Head;
  #pending: Buffer | undefined;
  #remaining = 0;
  #line = '';
  #trailers: string[] | undefined;
  #trailerBytes = 0;
  #noBody = false;

  constructor(mode: 'request' | 'response', handler: Http1Handler) {
    this.#mode = mode;
    this.#handler = handler;
  }

  /** Response mode: the next response answers a HEAD request (no body whatever it says). */
  expectNoBody(noBody: boolean): void {
    this.#noBody = noBody;
  }

  /** True between the end of a message and reset(). */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** True while no byte of the next message has been seen. */
  get idle(): boolean {
    return this.#state === State.Head && this.#pending === undefined;
  }

  /** Whether the body runs until the connection closes (call finish() on EOF). */
  get readsUntilClose(): boolean {
    return this.#state === State.Close;
  }

  /** Prepares for the next message after done. */
  reset(): void {
    this.#state = State.Head;
    this.#pending = undefined;
    this.#trailers = undefined;
    this.#trailerBytes = 0;
    this.#line = '';
    this.#noBody = false;
  }

  /**
   * The peer closed its side. Ends a body that runs until close; throws when a message was cut
   * short (mid-head or mid-body), returns quietly between messages.
   */
  finish(): void {
    if (this.#state === State.Close) {
      this.#state = State.Done;
      this.#handler.onMessageEnd(undefined);
      return;
    }
    if (this.#state === State.Done || this.idle) return;
    throw new HttpParseError(400, 'the connection closed in the middle of a message');
  }

  /** Parses from `buf`; returns the bytes used (less than buf.length when a message ended). */
  execute(buf: Buffer): number {
    let off = 0;
    const len = buf.length;
    while (off < len) {
      switch (this.#state) {
        case State.Head: {
          const used = this.#head(buf, off);
          if (used < 0) return len;
          off = used;
          break;
        }
        case State.Length: {
          const n = Math.min(this.#remaining, len - off);
          const chunk = off === 0 && n === len ? buf : buf.subarray(off, off + n);
          off += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = State.Done;
          this.#handler.onBody(chunk);
          if (this.#state === State.Done) {
            this.#handler.onMessageEnd(undefined);
            return off;
          }
          break;
        }
        case State.ChunkSize: {
          const line = this.#readLine(buf, off);
          if (line === undefined) return len;
          off = line.next;
          this.#chunkSize(line.text);
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.#remaining, len - off);
          const chunk = buf.subarray(off, off + n);
          off += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = State.ChunkDataEnd;
          this.#handler.onBody(chunk);
          break;
        }
        case State.ChunkDataEnd: {
          const line = this.#readLine(buf, off);
          if (line === undefined) return len;
          off = line.next;
          if (line.text !== '') throw new HttpParseError(400, 'chunk data is not followed by CRLF');
          this.#state = State.ChunkSize;
          break;
        }
        case State.Trailers: {
          const line = this.#readLine(buf, off);
          if (line === undefined) return len;
          off = line.next;
          if (line.text === '') {
            this.#state = State.Done;
            const trailers = this.#trailers ? parseFields(this.#trailers, 'trailer') : undefined;
            this.#handler.onMessageEnd(trailers);
            return off;
          }
          this.#trailerBytes += line.text.length;
          if (this.#trailerBytes > MAX_HEAD_BYTES)
            throw new HttpParseError(431, `trailers are larger than ${MAX_HEAD_BYTES} bytes`);
          (this.#trailers ??= []).push(line.text);
          break;
        }
        case State.Close: {
          const chunk = off === 0 ? buf : buf.subarray(off);
          this.#handler.onBody(chunk);
          return len;
        }
        case State.Done:
          return off;
      }
    }
    return off;
  }

  /** Returns the offset after the head, or -1 when more bytes are needed. */
  #head(buf: Buffer, off: number): number {
    let data = buf;
    let start = off;
    if (this.#pending) {
      data = Buffer.concat([this.#pending, buf.subarray(off)]);
      start = 0;
    } else {
      // Empty lines before a request line are ignored (RFC 9112 §2.2).
      while (start + 1 < data.length && data[start] === 13 && data[start + 1] === 10) start += 2;
      if (start === data.length) return -1;
    }
    const end = data.indexOf(CRLFCRLF, start);
    if (end === -1) {
      if (data.length - start > MAX_HEAD_BYTES) this.#tooLarge();
      this.#pending = start === 0 && data !== buf ? data : Buffer.from(data.subarray(start));
      return -1;
    }
    if (end - start > MAX_HEAD_BYTES) this.#tooLarge();
    const text = data.toString('latin1', start, end);
    const consumedInData = end + 4;
    // Offset in `buf`: everything of `buf` up to the head's end.
    const next = this.#pending ? consumedInData - this.#pending.length + off : consumedInData;
    this.#pending = undefined;
    if (this.#mode === 'request') this.#requestHead(text);
    else this.#responseHead(text);
    return next;
  }

  #tooLarge(): never {
    throw new HttpParseError(
      this.#mode === 'request' ? 431 : 502,
      `the ${this.#mode} head is larger than ${MAX_HEAD_BYTES} bytes`,
    );
  }

  #requestHead(text: string): void {
    const eol = text.indexOf('\r\n');
    const line = eol === -1 ? text : text.slice(0, eol);
    const sp1 = line.indexOf(' ');
    const sp2 = line.lastIndexOf(' ');
    if (sp1 <= 0 || sp2 === sp1) throw new HttpParseError(400, `malformed request line "${line}"`);
    const method = line.slice(0, sp1);
    let target = line.slice(sp1 + 1, sp2);
    const version = line.slice(sp2 + 1);
    if (tokenKind(method) === 0) throw new HttpParseError(400, `invalid method "${method}"`);
    const minor = versionMinor(version);
    if (minor === undefined)
      throw new HttpParseError(505, `unsupported protocol version "${version}"`);
    if (target === '' || badTarget(target))
      throw new HttpParseError(400, `invalid request target "${target}"`);

    const headers = eol === -1 ? [] : parseFieldText(text, eol + 2, 'header');
    let host: string | undefined;
    let hosts = 0;
    let w = 0;
    for (let r = 0; r < headers.length; r += 2) {
      if (headers[r] === 'host') {
        host = headers[r + 1];
        hosts++;
        continue;
      }
      headers[w++] = headers[r]!;
      headers[w++] = headers[r + 1]!;
    }
    headers.length = w;
    if (hosts > 1) throw new HttpParseError(400, 'more than one Host header');
    if (!target.startsWith('/')) {
      const absolute = /^https?:\/\/([^/?#]+)([^#]*)$/i.exec(target);
      if (absolute) {
        host = absolute[1]!;
        target = absolute[2] === '' ? '/' : absolute[2]!;
        if (!target.startsWith('/')) target = `/${target}`;
      } else if (target === '*' && method === 'OPTIONS') {
        // asterisk-form
      } else if (method === 'CONNECT') {
        throw new HttpParseError(405, 'CONNECT is not proxied by this listener');
      } else {
        throw new HttpParseError(400, `invalid request target "${target}"`);
      }
    }
    if (host === undefined) {
      if (minor === 1) throw new HttpParseError(400, 'an HTTP/1.1 request without a Host header');
      host = '';
    }
    if (host !== '' && badHost(host)) throw new HttpParseError(400, `invalid Host "${host}"`);

    const conn = connectionInfo(headers, minor);
    const framing = requestFraming(headers);
    let expectContinue = false;
    let upgrade: string | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      const n = headers[i];
      if (n === 'expect' && headers[i + 1]!.toLowerCase() === '100-continue') expectContinue = true;
      else if (n === 'upgrade' && conn.upgrade) upgrade = headers[i + 1];
    }
    this.#startBody(framing);
    this.#handler.onRequestHead!({
      method,
      target,
      minor,
      headers,
      host,
      framing,
      keepAlive: conn.keepAlive,
      expectContinue,
      upgrade,
    });
    this.#endIfEmpty();
  }

  #responseHead(text: string): void {
    const eol = text.indexOf('\r\n');
    const line = eol === -1 ? text : text.slice(0, eol);
    const minor = versionMinor(line.slice(0, 8));
    const d0 = line.charCodeAt(9) - 48;
    const d1 = line.charCodeAt(10) - 48;
    const d2 = line.charCodeAt(11) - 48;
    if (
      minor === undefined ||
      line.charCodeAt(8) !== 32 ||
      !(d0 >= 1 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) ||
      (line.length > 12 && line.charCodeAt(12) !== 32)
    ) {
      throw new HttpParseError(502, `malformed status line "${line}"`);
    }
    const status = d0 * 100 + d1 * 10 + d2;
    let headers: HeaderList;
    try {
      headers = eol === -1 ? [] : parseFieldText(text, eol + 2, 'header');
    } catch (err) {
      throw new HttpParseError(502, (err as Error).message);
    }
    const conn = connectionInfo(headers, minor);
    if (status < 200) {
      // Informational: reported, then the real head follows; after 101 the bytes are no longer
      // HTTP and execute() stops at the end of the head.
      this.#handler.onResponseHead!({
        status,
        minor,
        headers,
        framing: NO_BODY,
        keepAlive: status !== 101,
      });
      if (status === 101) this.#state = State.Done;
      return;
    }
    // HEAD responses, 204 and 304 never have a body, whatever their headers say (RFC 9112 §6.3).
    const framing =
      this.#noBody || status === 204 || status === 304 ? NO_BODY : responseFraming(headers);
    this.#startBody(framing);
    this.#handler.onResponseHead!({
      status,
      minor,
      headers,
      framing,
      keepAlive: conn.keepAlive && framing.kind !== 'close',
    });
    this.#endIfEmpty();
  }

  #startBody(framing: BodyFraming): void {
    switch (framing.kind) {
      case 'none':
        this.#state = State.Done;
        break;
      case 'length':
        this.#remaining = framing.length;
        this.#state = framing.length === 0 ? State.Done : State.Length;
        break;
      case 'chunked':
        this.#state = State.ChunkSize;
        break;
      case 'close':
        this.#state = State.Close;
        break;
    }
  }

  #endIfEmpty(): void {
    if (this.#state === State.Done) this.#handler.onMessageEnd(undefined);
  }

  #chunkSize(text: string): void {
    const semi = text.indexOf(';');
    const hex = (semi === -1 ? text : text.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) {
      throw new HttpParseError(400, `invalid chunk size "${hex}"`);
    }
    const size = parseInt(hex, 16);
    if (size === 0) {
      this.#state = State.Trailers;
      return;
    }
    this.#remaining = size;
    this.#state = State.ChunkData;
  }

  /** A CRLF-terminated line, possibly split over reads; undefined when more bytes are needed. */
  #readLine(buf: Buffer, off: number): { text: string; next: number } | undefined {
    if (this.#line.endsWith('\r') && buf[off] === 10) {
      // The line's CRLF was split between two reads.
      const text = this.#line.slice(0, -1);
      this.#line = '';
      return { text, next: off + 1 };
    }
    const eol = buf.indexOf(CRLF, off);
    if (eol === -1) {
      // A CR at the end may be the first half of the CRLF: keep it in the line for now.
      this.#line += buf.toString('latin1', off);
      if (this.#line.length > MAX_CHUNK_LINE)
        throw new HttpParseError(400, 'a chunk-size or trailer line is too long');
      return undefined;
    }
    let text = buf.toString('latin1', off, eol);
    if (this.#line !== '') {
      text = this.#line + text;
      this.#line = '';
    }
    return { text, next: eol + 2 };
  }
}

function versionMinor(v: string): 0 | 1 | undefined {
  if (v === 'HTTP/1.1') return 1;
  if (v === 'HTTP/1.0') return 0;
  return undefined;
}

/** Header lines -> flat list with lowercase names; refuses what RFC 9112 says a server must. */
function parseFields(lines: readonly string[], what: 'header' | 'trailer'): HeaderList {
  const out: HeaderList = [];
  for (const line of lines) parseField(line, 0, line.length, what, out);
  return out;
}

/** The CRLF-separated field lines of `text` from `from` on (a head without its final CRLF). */
function parseFieldText(text: string, from: number, what: 'header' | 'trailer'): HeaderList {
  const out: HeaderList = [];
  let start = from;
  const end = text.length;
  while (start <= end) {
    let eol = text.indexOf('\r\n', start);
    if (eol === -1) eol = end;
    parseField(text, start, eol, what, out);
    start = eol + 2;
  }
  return out;
}

/** One field line text[start, end) appended to `out` as lowercase name and trimmed value. */
function parseField(
  text: string,
  start: number,
  end: number,
  what: 'header' | 'trailer',
  out: HeaderList,
): void {
  if (start === end) return;
  const c0 = text.charCodeAt(start);
  if (c0 === 32 || c0 === 9)
    throw new HttpParseError(
      400,
      `obsolete line folding in a ${what} ("${text.slice(start, end).trim()}")`,
    );
  const colon = text.indexOf(':', start);
  if (colon === start || colon === -1 || colon >= end)
    throw new HttpParseError(400, `malformed ${what} line "${text.slice(start, end)}"`);
  const name = text.slice(start, colon);
  const kind = tokenKind(name);
  if (kind === 0) {
    throw new HttpParseError(
      400,
      /\s$/.test(name)
        ? `whitespace before the colon in ${what} "${name.trim()}"`
        : `invalid ${what} name "${name}"`,
    );
  }
  let a = colon + 1;
  let b = end;
  while (a < b && (text.charCodeAt(a) === 32 || text.charCodeAt(a) === 9)) a++;
  while (b > a && (text.charCodeAt(b - 1) === 32 || text.charCodeAt(b - 1) === 9)) b--;
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127)
      throw new HttpParseError(400, `control characters in the value of ${what} "${name}"`);
  }
  out.push(kind === 2 ? name.toLowerCase() : name, text.slice(a, b));
}

/** Whitespace, "/", "?", "#" or "@" (never in a Host). */
function badHost(h: string): boolean {
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c === 47 || c === 63 || c === 35 || c === 64 || c === 32 || (c >= 9 && c <= 13))
      return true;
    if (c === 0xa0) return true; // \s of latin1
  }
  return false;
}

function connectionInfo(
  headers: HeaderList,
  minor: 0 | 1,
): { keepAlive: boolean; upgrade: boolean } {
  let close = false;
  let keep = false;
  let upgrade = false;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'connection') continue;
    const v = headers[i + 1]!;
    if (v === 'keep-alive') {
      keep = true;
      continue;
    }
    if (v === 'close') {
      close = true;
      continue;
    }
    for (const t of v.toLowerCase().split(',')) {
      const token = t.trim();
      if (token === 'close') close = true;
      else if (token === 'keep-alive') keep = true;
      else if (token === 'upgrade') upgrade = true;
    }
  }
  return { keepAlive: !close && (minor === 1 || keep), upgrade };
}

function contentLength(headers: HeaderList): number | undefined {
  let found: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'content-length') continue;
    const value = headers[i + 1]!;
    if (found === undefined && isDigits(value, 15)) {
      found = value;
      continue;
    }
    for (const part of value.split(',')) {
      const v = part.trim();
      if (!isDigits(v, 15)) throw new HttpParseError(400, `invalid Content-Length "${v}"`);
      if (found !== undefined && Number(found) !== Number(v))
        throw new HttpParseError(400, `conflicting Content-Length values ${found} and ${v}`);
      found = v;
    }
  }
  return found === undefined ? undefined : Number(found);
}

function transferEncoding(headers: HeaderList): string | undefined {
  let te: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'transfer-encoding')
      te = te === undefined ? headers[i + 1] : `${te},${headers[i + 1]}`;
  }
  return te?.toLowerCase();
}

function requestFraming(headers: HeaderList): BodyFraming {
  const te = transferEncoding(headers);
  const cl = contentLength(headers);
  if (te !== undefined) {
    if (cl !== undefined)
      throw new HttpParseError(400, 'a request with both Content-Length and Transfer-Encoding');
    const codings = te.split(',').map((s) => s.trim());
    if (codings.length !== 1 || codings[0] !== 'chunked')
      throw new HttpParseError(
        codings.at(-1) === 'chunked' ? 501 : 400,
        `unsupported Transfer-Encoding "${te}" (only chunked)`,
      );
    return CHUNKED;
  }
  if (cl === undefined || cl === 0) return NO_BODY;
  return { kind: 'length', length: cl };
}

function responseFraming(headers: HeaderList): BodyFraming {
  const te = transferEncoding(headers);
  if (te !== undefined) {
    const codings = te.split(',').map((s) => s.trim());
    return codings.at(-1) === 'chunked' && codings.length === 1 ? CHUNKED : UNTIL_CLOSE;
  }
  const cl = contentLength(headers);
  if (cl !== undefined) return { kind: 'length', length: cl };
  return UNTIL_CLOSE;
}
