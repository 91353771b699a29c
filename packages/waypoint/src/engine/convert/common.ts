// Shared pieces of the xDS converters: the Invalid error whose message (naming the field) becomes a
// NACK's error_detail, durations, and typed_config unpacking. Pure.
import type { Message } from '@bufbuild/protobuf';
import type { Any, Duration } from '@bufbuild/protobuf/wkt';
import { unpackAny } from '@trellis/api';

/** A converted value, or why the resource is refused. */
export type Converted<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Thrown inside a converter; convert() turns it into { ok: false, reason }. */
export class Invalid extends Error {}

export function invalid(field: string, problem: string): never {
  throw new Invalid(`${field}: ${problem}`);
}

/** Runs a converter body; an Invalid becomes the reason, anything else is a bug and propagates. */
export function convert<T>(body: () => T): Converted<T> {
  try {
    return { ok: true, value: body() };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, reason: err.message };
    throw err;
  }
}

/** A protobuf Duration in milliseconds (undefined when unset). */
export function durationMs(d: Duration | undefined, field: string): number | undefined {
  if (!d) return undefined;
  const ms = Number(d.seconds) * 1000 + Math.floor(d.nanos / 1e6);
  if (!Number.isFinite(ms) || ms < 0) invalid(field, `negative or invalid duration`);
  return ms;
}

/** Unpacks a typed_config Any, naming the field when the type is unknown or the bytes are bad. */
export function unpackTyped(any: Any | undefined, field: string): Message {
  if (!any) invalid(field, 'typed_config is missing');
  try {
    return unpackAny(any);
  } catch (err) {
    invalid(field, (err as Error).message);
  }
}

/** The message type name of an Any (after the last '/'). */
export function anyTypeName(any: Any): string {
  return any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1);
}

/** A header name or value from configuration: no CR, LF or NUL (they would split the message). */
export function checkHeaderText(value: string, field: string): string {
  if (/[\r\n\0]/.test(value)) invalid(field, 'contains CR, LF or NUL');
  return value;
}

/** A header name from configuration, lowercased (HTTP/2 and our lists use lowercase). */
export function headerName(name: string, field: string): string {
  if (name === '') invalid(field, 'empty header name');
  if (!/^:?[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name))
    invalid(field, `invalid header name "${name}"`);
  return name.toLowerCase();
}
