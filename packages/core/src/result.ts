// The result of checking or decoding something at an edge: the value, or the reason it was
// refused, in words a user can act on (a NACK's error_detail, a 400 body, a config error).

export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function refused<T = never>(reason: string): Result<T> {
  return { ok: false, reason };
}
