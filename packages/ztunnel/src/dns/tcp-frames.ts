// DNS over TCP frames each message with a two-byte length (RFC 1035 4.2.2, RFC 7766). Pure.

export const MAX_MESSAGE = 0xffff;

/** Collects the messages of a TCP stream as its chunks arrive. */
export class FrameReader {
  #buffered = Buffer.alloc(0);

  /** The complete messages `chunk` finished (in order). */
  push(chunk: Uint8Array): Buffer[] {
    this.#buffered = this.#buffered.length
      ? Buffer.concat([this.#buffered, chunk])
      : Buffer.from(chunk);
    const out: Buffer[] = [];
    while (this.#buffered.length >= 2) {
      const length = this.#buffered.readUInt16BE(0);
      if (this.#buffered.length < 2 + length) break;
      out.push(this.#buffered.subarray(2, 2 + length));
      this.#buffered = this.#buffered.subarray(2 + length);
    }
    return out;
  }

  /** Bytes of an unfinished message. */
  get pending(): number {
    return this.#buffered.length;
  }
}

/** A message with its length prefix. */
export function frame(message: Uint8Array): Buffer {
  if (message.length > MAX_MESSAGE)
    throw new Error(`a DNS message of ${message.length} bytes does not fit a TCP frame`);
  const out = Buffer.alloc(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  out.set(message, 2);
  return out;
}
