// Decoding a response at the edge: every resource through its handler, all or nothing. Pure.
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { unpackAnyAs } from '@trellis/api';
import { clip, type Result } from '@trellis/core';
import type { ResourceHandler } from './types.js';

export interface RawResource {
  /** Known in delta responses; undefined in state-of-the-world ones (named after decoding). */
  readonly name: string | undefined;
  readonly version: string;
  readonly resource?: Any | undefined;
}

export interface DecodedResource<T> {
  readonly name: string;
  readonly version: string;
  readonly value: T;
}

const MAX_REASONS = 5;

/** Server text (names, type URLs) quoted in a NACK and in logs: at most 200 characters of it. */
export function clipped(text: string): string {
  return clip(text, 200);
}

/** Decodes every resource, or returns why the response must be rejected. */
export function decodeAll<T>(
  handler: ResourceHandler<T>,
  typeUrl: string,
  raw: readonly RawResource[],
): Result<DecodedResource<T>[]> {
  const out: DecodedResource<T>[] = [];
  const reasons: string[] = [];
  const seen = new Set<string>();
  for (const r of raw) {
    const label = r.name === undefined ? `resource #${raw.indexOf(r)}` : clipped(r.name);
    const reason = check(r, typeUrl);
    if (reason !== undefined) {
      reasons.push(`${label}: ${reason}`);
      continue;
    }
    let decoded: Result<T>;
    let name = r.name;
    try {
      decoded = handler.decode(r.resource!, r.name);
      if (decoded.ok && name === undefined) {
        if (!handler.resourceName)
          throw new Error('the handler has no resourceName() for state-of-the-world responses');
        name = handler.resourceName(decoded.value);
      }
    } catch (err) {
      decoded = { ok: false, reason: err instanceof Error ? err.message : String(err) };
    }
    if (!decoded.ok) reasons.push(`${label}: ${clipped(decoded.reason)}`);
    else if (!name) reasons.push(`${label}: the resource has no name`);
    else if (seen.has(name)) reasons.push(`${clipped(name)}: listed twice`);
    else {
      seen.add(name);
      out.push({ name, version: r.version, value: decoded.value });
    }
  }
  if (reasons.length === 0) return { ok: true, value: out };
  const more = reasons.length > MAX_REASONS ? ` (and ${reasons.length - MAX_REASONS} more)` : '';
  return { ok: false, reason: reasons.slice(0, MAX_REASONS).join('; ') + more };
}

function check(r: RawResource, typeUrl: string): string | undefined {
  if (r.name === '') return 'the resource has no name';
  if (!r.resource) return 'no resource body';
  if (r.resource.typeUrl !== typeUrl) {
    return `type URL "${clipped(r.resource.typeUrl)}" in a response for "${clipped(typeUrl)}"`;
  }
  return undefined;
}

/**
 * A decode function for a protobuf type: unpacks the Any, then runs `validate` (default: accept)
 * on the message to produce the typed value or a reason.
 */
export function protoDecoder<Desc extends DescMessage, T = MessageShape<Desc>>(
  schema: Desc,
  validate: (message: MessageShape<Desc>, name: string | undefined) => Result<T> = (m) => ({
    ok: true,
    value: m as unknown as T,
  }),
): (resource: Any, name: string | undefined) => Result<T> {
  return (resource, name) => validate(unpackAnyAs(resource, schema), name);
}
