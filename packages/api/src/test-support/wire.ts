// Hand encoding of protobuf wire bytes for tests, so field numbers are checked against literal
// tags rather than against the generated code itself.

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function tag(field: number, wireType: 0 | 2): number[] {
  return varint(field * 8 + wireType);
}

/** A varint field (ints, enums, bools). */
export function vint(field: number, value: number): number[] {
  return [...tag(field, 0), ...varint(value)];
}

/** A length-delimited field (strings, bytes, embedded messages, packed repeated). */
export function lenField(field: number, payload: number[]): number[] {
  return [...tag(field, 2), ...varint(payload.length), ...payload];
}

/** A string field. */
export function str(field: number, value: string): number[] {
  return lenField(field, [...Buffer.from(value, 'utf8')]);
}

/** A packed repeated varint field. */
export function packed(field: number, values: number[]): number[] {
  return lenField(field, values.flatMap(varint));
}

export function bytes(...parts: number[][]): Uint8Array {
  return new Uint8Array(parts.flat());
}
