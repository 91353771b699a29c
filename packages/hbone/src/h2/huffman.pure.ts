// HPACK's static Huffman code (RFC 7541 Appendix B). The code is canonical: codes of equal length
// are consecutive in symbol order and each length starts where the shorter ones left off, so the
// code lengths alone (below, symbols 0..256, 256 being EOS) define it.
import { ErrorCode, H2ProtocolError } from './frames.pure.js';

// prettier-ignore
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0..15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16..31
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //          ' '..'/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //               '0'..'?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //                 '@'..'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //              'P'..'_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //                 '`'..'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //             'p'..127
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128..143
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144..159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160..175
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176..191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192..207
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208..223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224..239
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240..255
  30, //                                                              EOS
];

export const EOS = 256;

/** [code, length] of every symbol, from the canonical construction. */
export const HUFFMAN_CODES: ReadonlyArray<readonly [number, number]> = (() => {
  const order = CODE_LENGTHS.map((length, symbol) => ({ length, symbol })).sort(
    (a, b) => a.length - b.length || a.symbol - b.symbol,
  );
  const codes: Array<[number, number]> = new Array<[number, number]>(CODE_LENGTHS.length);
  let code = 0;
  let length = order[0]?.length ?? 0;
  for (const entry of order) {
    code *= 2 ** (entry.length - length);
    length = entry.length;
    codes[entry.symbol] = [code, length];
    code++;
  }
  return codes;
})();

/** Decoding tree: node i has children tree[2i] (bit 0) and tree[2i+1] (bit 1); >= 0 a node, < 0 a leaf -(symbol+1). */
const TREE: Int32Array = (() => {
  const tree: number[] = [0, 0];
  let nodes = 1;
  HUFFMAN_CODES.forEach(([code, length], symbol) => {
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const slot = 2 * node + (Math.floor(code / 2 ** bit) % 2);
      if (bit === 0) {
        tree[slot] = -(symbol + 1);
      } else {
        if (!tree[slot]) {
          tree[slot] = nodes++;
          tree.push(0, 0);
        }
        node = tree[slot] as number;
      }
    }
  });
  return Int32Array.from(tree);
})();

/** Decodes a Huffman-coded string literal (RFC 7541 §5.2): EOS inside or bad padding is an error. */
export function huffmanDecode(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil((bytes.length * 8) / 5));
  let length = 0;
  let node = 0;
  /** Bits read since the last complete symbol, and whether all of them were 1. */
  let depth = 0;
  let allOnes = true;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >> bit) & 1;
      const next = TREE[2 * node + one] as number;
      if (next < 0) {
        const symbol = -next - 1;
        if (symbol === EOS) throw compression('a Huffman string contains EOS');
        out[length++] = symbol;
        node = 0;
        depth = 0;
        allOnes = true;
      } else {
        node = next;
        depth++;
        allOnes &&= one === 1;
      }
    }
  }
  if (depth > 7) throw compression('Huffman padding is longer than 7 bits');
  if (!allOnes) throw compression('Huffman padding is not the most significant bits of EOS');
  return out.subarray(0, length);
}

/** Huffman-codes `bytes` (the encoder of this package sends literals; tests and tools use this). */
export function huffmanEncode(bytes: Buffer): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    const [code, length] = HUFFMAN_CODES[byte] as readonly [number, number];
    for (let bit = length - 1; bit >= 0; bit--) {
      acc = (acc << 1) | (Math.floor(code / 2 ** bit) % 2);
      if (++bits === 8) {
        out.push(acc);
        acc = 0;
        bits = 0;
      }
    }
  }
  if (bits > 0) out.push((acc << (8 - bits)) | (0xff >> bits));
  return Buffer.from(out);
}

function compression(message: string): H2ProtocolError {
  return new H2ProtocolError(ErrorCode.COMPRESSION_ERROR, message);
}
