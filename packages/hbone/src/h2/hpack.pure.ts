// HPACK (RFC 7541): a complete decoder (static and dynamic table, table size updates, Huffman,
// integer and string literals) and a small encoder that sends every field as a literal without
// indexing and without Huffman (naming fields by static-table index where one exists), so it never
// needs a dynamic table of its own.
import { ErrorCode, H2ProtocolError } from './frames.pure.js';
import { huffmanDecode } from './huffman.pure.js';

export type HeaderField = readonly [name: string, value: string];

/** The static table (RFC 7541 Appendix A); index 1 is the first entry. */
// prettier-ignore
export const STATIC_TABLE: readonly HeaderField[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'],
  [':path', '/index.html'], [':scheme', 'http'], [':scheme', 'https'], [':status', '200'],
  [':status', '204'], [':status', '206'], [':status', '304'], [':status', '400'],
  [':status', '404'], [':status', '500'], ['accept-charset', ''], ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''], ['accept-ranges', ''], ['accept', ''], ['access-control-allow-origin', ''],
  ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''],
  ['date', ''], ['etag', ''], ['expect', ''], ['expires', ''],
  ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''],
  ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''],
  ['retry-after', ''], ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''],
  ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

/** Octets an entry takes in a dynamic table (RFC 7541 §4.1). */
export function entrySize(field: HeaderField): number {
  return Buffer.byteLength(field[0], 'latin1') + Buffer.byteLength(field[1], 'latin1') + 32;
}

/** Largest integer accepted in a header block; anything bigger is an attack, not a header. */
const MAX_INTEGER = 2 ** 32 - 1;

/** Appends the integer `value` with an N-bit prefix whose other bits are `firstByte` (RFC 7541 §5.1). */
export function encodeInteger(
  value: number,
  prefixBits: number,
  firstByte: number,
  out: number[],
): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(firstByte | value);
    return;
  }
  out.push(firstByte | max);
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

/** Reads an integer with an N-bit prefix at `at`; returns it and the offset after it. */
export function decodeInteger(bytes: Buffer, at: number, prefixBits: number): [number, number] {
  const max = (1 << prefixBits) - 1;
  const first = bytes[at];
  if (first === undefined) throw compression('a header block ends inside an integer');
  let value = first & max;
  let pos = at + 1;
  if (value < max) return [value, pos];
  let shift = 1;
  for (;;) {
    const byte = bytes[pos++];
    if (byte === undefined) throw compression('a header block ends inside an integer');
    value += (byte & 0x7f) * shift;
    if (value > MAX_INTEGER) throw compression('an integer in a header block is too large');
    if (!(byte & 0x80)) return [value, pos];
    shift *= 128;
  }
}

export class HpackDecoder {
  /** Newest entry last. */
  #table: HeaderField[] = [];
  #size = 0;
  #maxSize: number;

  /** `maxTableSize`: this end's SETTINGS_HEADER_TABLE_SIZE, the limit for size updates. */
  constructor(private readonly maxTableSize = 4096) {
    this.#maxSize = maxTableSize;
  }

  /** The dynamic table's current size and limit, newest entry first (for tests and debugging). */
  get dynamicTable(): { size: number; maxSize: number; entries: HeaderField[] } {
    return { size: this.#size, maxSize: this.#maxSize, entries: [...this.#table].reverse() };
  }

  /** Decodes one complete header block into its fields, in order. */
  decode(block: Buffer): HeaderField[] {
    const fields: HeaderField[] = [];
    let at = 0;
    let sizeUpdateAllowed = true;
    while (at < block.length) {
      const byte = block[at] as number;
      if (byte & 0x80) {
        const [index, next] = decodeInteger(block, at, 7);
        fields.push(this.#entry(index));
        at = next;
      } else if (byte & 0x40) {
        at = this.#literal(block, at, 6, fields, true);
      } else if (byte & 0x20) {
        if (!sizeUpdateAllowed) {
          throw compression('a dynamic table size update follows a header field');
        }
        const [size, next] = decodeInteger(block, at, 5);
        if (size > this.maxTableSize) {
          throw compression(
            `dynamic table size update to ${size} is above the ${this.maxTableSize} allowed`,
          );
        }
        this.#maxSize = size;
        this.#evict(0);
        at = next;
        continue;
      } else {
        // 0001xxxx never indexed, 0000xxxx without indexing: both 4-bit prefixes, neither indexed.
        at = this.#literal(block, at, 4, fields, false);
      }
      sizeUpdateAllowed = false;
    }
    return fields;
  }

  #literal(
    block: Buffer,
    at: number,
    prefixBits: number,
    fields: HeaderField[],
    index: boolean,
  ): number {
    const [nameIndex, afterIndex] = decodeInteger(block, at, prefixBits);
    let name: string;
    let pos = afterIndex;
    if (nameIndex === 0) {
      [name, pos] = decodeString(block, pos);
    } else {
      name = this.#entry(nameIndex)[0];
    }
    const [value, end] = decodeString(block, pos);
    const field: HeaderField = [name, value];
    fields.push(field);
    if (index) this.#add(field);
    return end;
  }

  #entry(index: number): HeaderField {
    if (index === 0) throw compression('header field index 0');
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1] as HeaderField;
    const entry = this.#table[this.#table.length - (index - STATIC_TABLE.length)];
    if (!entry) {
      throw compression(
        `header field index ${index} is beyond the tables (${STATIC_TABLE.length} static, ${this.#table.length} dynamic)`,
      );
    }
    return entry;
  }

  #add(field: HeaderField): void {
    const size = entrySize(field);
    this.#evict(size);
    if (size > this.#maxSize) return; // RFC 7541 §4.4: the table ends up empty.
    this.#table.push(field);
    this.#size += size;
  }

  /** Evicts oldest entries until `room` more octets fit. */
  #evict(room: number): void {
    while (this.#table.length > 0 && this.#size + room > this.#maxSize) {
      this.#size -= entrySize(this.#table.shift() as HeaderField);
    }
  }
}

function decodeString(block: Buffer, at: number): [string, number] {
  const huffman = ((block[at] ?? 0) & 0x80) !== 0;
  const [length, start] = decodeInteger(block, at, 7);
  const end = start + length;
  if (end > block.length)
    throw compression('a string literal runs past the end of the header block');
  const raw = block.subarray(start, end);
  return [(huffman ? huffmanDecode(raw) : raw).toString('latin1'), end];
}

const STATIC_NAME = new Map<string, number>();
const STATIC_FIELD = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  if (!STATIC_NAME.has(name)) STATIC_NAME.set(name, i + 1);
  STATIC_FIELD.set(`${name}\0${value}`, i + 1);
});

/**
 * Encodes header fields: a static-table match as an indexed field, anything else as a literal
 * without indexing. `resetTable` starts the block with a dynamic table size update to 0, which
 * tells the peer's decoder this encoder keeps no dynamic table (valid whatever its setting).
 */
export function encodeHeaderBlock(fields: readonly HeaderField[], resetTable = false): Buffer {
  const out: number[] = [];
  if (resetTable) out.push(0x20);
  const strings: Buffer[] = [];
  const flush = (): void => {
    if (out.length > 0) strings.push(Buffer.from(out));
    out.length = 0;
  };
  for (const [name, value] of fields) {
    const exact = STATIC_FIELD.get(`${name}\0${value}`);
    if (exact !== undefined) {
      encodeInteger(exact, 7, 0x80, out);
      continue;
    }
    const nameIndex = STATIC_NAME.get(name);
    encodeInteger(nameIndex ?? 0, 4, 0x00, out);
    if (nameIndex === undefined) {
      const bytes = Buffer.from(name, 'latin1');
      encodeInteger(bytes.length, 7, 0x00, out);
      flush();
      strings.push(bytes);
    }
    const bytes = Buffer.from(value, 'latin1');
    encodeInteger(bytes.length, 7, 0x00, out);
    flush();
    strings.push(bytes);
  }
  flush();
  return Buffer.concat(strings);
}

function compression(message: string): H2ProtocolError {
  return new H2ProtocolError(ErrorCode.COMPRESSION_ERROR, message);
}
