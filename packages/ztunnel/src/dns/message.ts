// The DNS wire format (RFC 1035, EDNS0 from RFC 6891) as far as the proxy needs it: decode a query
// (one question, the OPT record's UDP size), encode an answer (A, AAAA, CNAME), read the id, flags
// and question of an upstream response, and truncate a response for UDP. Pure. Anything malformed
// is a typed refusal with a reason, never an exception.
import { ipToBytes } from '../net/ip.js';

export const TYPE = { A: 1, CNAME: 5, AAAA: 28, OPT: 41 } as const;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;
/** The UDP payload every client accepts (RFC 1035); more only when its EDNS OPT record says so. */
export const UDP_MIN = 512;
/** What we advertise and accept at most over UDP (the DNS flag day 2020 size). */
export const UDP_MAX = 1232;

const HEADER = 12;
const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;
const CD = 0x0010;

export interface Question {
  /** Lower-cased, no trailing dot ('' is the root). */
  readonly name: string;
  /** As the client wrote it (answers echo its case). */
  readonly rawName: string;
  readonly type: number;
  readonly class: number;
}

export interface Query {
  readonly id: number;
  readonly rd: boolean;
  readonly cd: boolean;
  readonly question: Question;
  /** The client's EDNS UDP payload size, or undefined without an OPT record. */
  readonly ednsUdpSize?: number;
}

export type DecodedQuery =
  | { readonly ok: true; readonly query: Query }
  /** Answer with this rcode (and the question, when it could be read). */
  | {
      readonly ok: false;
      readonly id: number;
      readonly rcode: number;
      readonly reason: string;
      readonly question?: Question;
      readonly rd: boolean;
    }
  /** Not even a header: nothing to answer. */
  | {
      readonly ok: false;
      readonly id?: undefined;
      readonly reason: string;
      readonly question?: undefined;
    };

class Malformed extends Error {}

/** Reads a possibly compressed name at `offset`; returns it and the offset after it. */
function readName(buf: Uint8Array, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  let jumps = 0;
  let length = 0;
  for (;;) {
    if (pos >= buf.length) throw new Malformed('a name runs past the end of the message');
    const len = buf[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new Malformed('a compression pointer is cut off');
      if (++jumps > 64) throw new Malformed('compression pointers loop');
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | buf[pos + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0)
      throw new Malformed(`label type 0x${len.toString(16)} is not supported`);
    if (pos + 1 + len > buf.length) throw new Malformed('a label runs past the end of the message');
    length += len + 1;
    if (length > 255) throw new Malformed('a name is longer than 255 octets');
    // Presentation format: a dot or backslash inside a label is escaped.
    labels.push(
      String.fromCharCode(...buf.subarray(pos + 1, pos + 1 + len)).replace(/[.\\]/g, '\\$&'),
    );
    pos += 1 + len;
  }
  return { name: labels.join('.'), next };
}

const u16 = (buf: Uint8Array, at: number) => (buf[at]! << 8) | buf[at + 1]!;

function readQuestion(buf: Uint8Array, offset: number): { question: Question; next: number } {
  const { name, next } = readName(buf, offset);
  if (next + 4 > buf.length) throw new Malformed('the question is cut off');
  return {
    question: {
      name: name.toLowerCase(),
      rawName: name,
      type: u16(buf, next),
      class: u16(buf, next + 2),
    },
    next: next + 4,
  };
}

/** Skips one resource record; returns its type, class and the offset after it. */
function readRecordHead(
  buf: Uint8Array,
  offset: number,
): { name: string; type: number; class: number; next: number } {
  const { name, next } = readName(buf, offset);
  if (next + 10 > buf.length) throw new Malformed('a record is cut off');
  const rdlength = u16(buf, next + 8);
  if (next + 10 + rdlength > buf.length) throw new Malformed('record data runs past the end');
  return { name, type: u16(buf, next), class: u16(buf, next + 2), next: next + 10 + rdlength };
}

/** Decodes a query as a server receives it. */
export function decodeQuery(buf: Uint8Array): DecodedQuery {
  if (buf.length < HEADER)
    return { ok: false, reason: `${buf.length} bytes is shorter than a DNS header` };
  const id = u16(buf, 0);
  const flags = u16(buf, 2);
  const rd = (flags & RD) !== 0;
  const refuse = (rcode: number, reason: string, question?: Question): DecodedQuery => ({
    ok: false,
    id,
    rcode,
    reason,
    rd,
    ...(question ? { question } : {}),
  });
  if (flags & QR) return refuse(RCODE.FORMERR, 'a response was sent as a query');
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) return refuse(RCODE.NOTIMP, `opcode ${opcode} is not QUERY`);
  const qdcount = u16(buf, 4);
  if (qdcount !== 1) return refuse(RCODE.FORMERR, `${qdcount} questions (a query has exactly one)`);
  let question: Question | undefined;
  try {
    const q = readQuestion(buf, HEADER);
    question = q.question;
    let pos = q.next;
    const records = u16(buf, 6) + u16(buf, 8) + u16(buf, 10);
    let ednsUdpSize: number | undefined;
    for (let i = 0; i < records; i++) {
      const r = readRecordHead(buf, pos);
      if (r.type === TYPE.OPT) {
        if (ednsUdpSize !== undefined) throw new Malformed('more than one OPT record');
        if (r.name !== '') throw new Malformed('the OPT record is not owned by the root');
        ednsUdpSize = Math.max(UDP_MIN, r.class);
      }
      pos = r.next;
    }
    return {
      ok: true,
      query: {
        id,
        rd,
        cd: (flags & CD) !== 0,
        question,
        ...(ednsUdpSize !== undefined ? { ednsUdpSize } : {}),
      },
    };
  } catch (err) {
    if (err instanceof Malformed) return refuse(RCODE.FORMERR, err.message, question);
    throw err;
  }
}

/** The largest response a UDP client of this query takes. */
export function udpLimit(query: Pick<Query, 'ednsUdpSize'>): number {
  return Math.min(query.ednsUdpSize ?? UDP_MIN, UDP_MAX);
}

export interface Answer {
  /** As it goes on the wire (the client's case); no trailing dot. */
  readonly name: string;
  readonly type: typeof TYPE.A | typeof TYPE.AAAA | typeof TYPE.CNAME;
  readonly ttl: number;
  /** An IP address (A, AAAA) or a name (CNAME). */
  readonly data: string;
}

export interface Response {
  readonly id: number;
  readonly rcode: number;
  readonly rd: boolean;
  readonly cd?: boolean;
  /** Authoritative: this proxy is the source of the answer. */
  readonly aa?: boolean;
  readonly tc?: boolean;
  readonly question?: Question;
  readonly answers?: readonly Answer[];
  /** Echo an OPT record advertising this UDP size (when the query had one). */
  readonly ednsUdpSize?: number;
}

class Writer {
  readonly #chunks: number[] = [];
  readonly #names = new Map<string, number>();
  get length() {
    return this.#chunks.length;
  }
  u8(v: number) {
    this.#chunks.push(v & 0xff);
  }
  u16(v: number) {
    this.u8(v >> 8);
    this.u8(v);
  }
  u32(v: number) {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array) {
    for (const x of b) this.u8(x);
  }
  /** A name, pointing at an earlier identical name (case-insensitive) when there is one. */
  name(name: string) {
    const key = name.toLowerCase();
    const earlier = this.#names.get(key);
    if (earlier !== undefined) return this.u16(0xc000 | earlier);
    if (this.length < 0x3fff && key !== '') this.#names.set(key, this.length);
    for (const label of splitLabels(name)) {
      const b = Buffer.from(label, 'latin1');
      if (b.length === 0 || b.length > 63) throw new Error(`label "${label}" is not 1-63 octets`);
      this.u8(b.length);
      this.bytes(b);
    }
    this.u8(0);
  }
  patch16(at: number, v: number) {
    this.#chunks[at] = (v >> 8) & 0xff;
    this.#chunks[at + 1] = v & 0xff;
  }
  done(): Buffer {
    return Buffer.from(this.#chunks);
  }
}

/** The labels of a name in presentation format (`\.` and `\\` are a dot and a backslash in a label). */
function splitLabels(name: string): string[] {
  if (name === '') return [];
  const labels: string[] = [];
  let label = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '\\' && i + 1 < name.length) label += name[++i];
    else if (c === '.') {
      labels.push(label);
      label = '';
    } else label += c;
  }
  labels.push(label);
  return labels;
}

/** Encodes a response. */
export function encodeResponse(r: Response): Buffer {
  const w = new Writer();
  const answers = r.answers ?? [];
  w.u16(r.id);
  w.u16(
    QR |
      (r.aa ? AA : 0) |
      (r.tc ? TC : 0) |
      (r.rd ? RD : 0) |
      RA |
      (r.cd ? CD : 0) |
      (r.rcode & 0xf),
  );
  w.u16(r.question ? 1 : 0);
  w.u16(answers.length);
  w.u16(0);
  w.u16(r.ednsUdpSize !== undefined ? 1 : 0);
  if (r.question) {
    w.name(r.question.rawName);
    w.u16(r.question.type);
    w.u16(r.question.class);
  }
  for (const a of answers) {
    w.name(a.name);
    w.u16(a.type);
    w.u16(CLASS_IN);
    w.u32(a.ttl);
    const lengthAt = w.length;
    w.u16(0);
    const start = w.length;
    if (a.type === TYPE.CNAME) w.name(a.data);
    else {
      const ip = ipToBytes(a.data);
      if (!ip || ip.length !== (a.type === TYPE.A ? 4 : 16))
        throw new Error(
          `${a.data} is not an address for a ${a.type === TYPE.A ? 'A' : 'AAAA'} record`,
        );
      w.bytes(ip);
    }
    w.patch16(lengthAt, w.length - start);
  }
  if (r.ednsUdpSize !== undefined) {
    w.u8(0); // root
    w.u16(TYPE.OPT);
    w.u16(r.ednsUdpSize);
    w.u32(0);
    w.u16(0);
  }
  return w.done();
}

/** The fields of a response a forwarder checks (id, QR, TC, rcode), or undefined when unreadable. */
export function responseHeader(
  buf: Uint8Array,
): { id: number; isResponse: boolean; truncated: boolean; rcode: number } | undefined {
  if (buf.length < HEADER) return undefined;
  const flags = u16(buf, 2);
  return {
    id: u16(buf, 0),
    isResponse: (flags & QR) !== 0,
    truncated: (flags & TC) !== 0,
    rcode: flags & 0xf,
  };
}

/**
 * The response cut down for a UDP client: unchanged when it fits `limit`, else its header with TC
 * set and only its question section (the client asks again over TCP).
 */
export function truncateForUdp(buf: Uint8Array, limit: number): Uint8Array {
  if (buf.length <= limit) return buf;
  const out = Buffer.alloc(HEADER);
  out.set(buf.subarray(0, 4), 0);
  out[2] = out[2]! | (TC >> 8);
  const qdcount = u16(buf, 4);
  let end = HEADER;
  try {
    for (let i = 0; i < qdcount; i++) end = readQuestion(buf, end).next;
  } catch {
    return out; // no readable question: the bare header with TC still tells the client to retry
  }
  out.writeUInt16BE(qdcount, 4);
  return Buffer.concat([out, buf.subarray(HEADER, end)]);
}
