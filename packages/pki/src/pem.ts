// PEM text <-> DER blocks, strict enough to say what is wrong with bad input.

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes every PEM block in `text`. `what` names the input in errors ("CSR", "trust bundle").
 * Throws when there is no block, a block is unterminated or mislabelled, or its body is not base64.
 */
export function decodePem(text: string, what: string): PemBlock[] {
  if (typeof text !== 'string') throw new Error(`${what}: expected PEM text, got ${typeof text}`);
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const [, begin, body, end] = m as unknown as [string, string, string, string];
    if (begin !== end) throw new Error(`${what}: PEM block BEGIN ${begin} ends with END ${end}`);
    const b64 = body.replace(/\s+/g, '');
    if (!BASE64.test(b64) || b64.length % 4 !== 0) {
      throw new Error(`${what}: the ${begin} PEM block is not valid base64`);
    }
    if (b64.length === 0) throw new Error(`${what}: the ${begin} PEM block is empty`);
    blocks.push({ label: begin, der: Buffer.from(b64, 'base64') });
  }
  if (blocks.length === 0) {
    if (text.includes('-----BEGIN '))
      throw new Error(`${what}: PEM block has no matching -----END line`);
    throw new Error(`${what}: no PEM block found (expected text starting with "-----BEGIN ")`);
  }
  return blocks;
}

/** Decodes the blocks of `text` that all must carry one of `labels`. */
export function decodePemOf(text: string, labels: readonly string[], what: string): Buffer[] {
  return decodePem(text, what).map((block) => {
    if (!labels.includes(block.label)) {
      throw new Error(`${what}: expected a ${labels[0]} PEM block, found ${block.label}`);
    }
    return block.der;
  });
}

/** Encodes DER as one PEM block with 64-character lines. */
export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
