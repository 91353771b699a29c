// Small typed readers for YAML-decoded values: each takes the value and the path that led to it,
// and throws a FieldError naming that path when the value has the wrong shape. Pure.
import { clip } from '@trellis/core';

export class FieldError extends Error {}

export type Json = unknown;

export function fail(path: string, problem: string): never {
  throw new FieldError(`${path}: ${problem}`);
}

function describe(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${typeof value === 'string' ? quote(value) : String(value)}`;
}

/** The file's text in a message: quoted, at most 80 characters of it. */
export function quote(text: string): string {
  return JSON.stringify(clip(text, 80));
}

/** A mapping with only the `allowed` keys. */
export function mapping(
  value: Json,
  path: string,
  allowed: readonly string[],
): Record<string, Json> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(path, `expected a mapping, got ${describe(value)}`);
  }
  const record = value as Record<string, Json>;
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key))
      fail(path, `unknown field ${quote(key)}; known fields: ${allowed.join(', ')}`);
  }
  return record;
}

/** A mapping with any keys (e.g. "<namespace>/<hostname>" -> ports). */
export function anyMapping(value: Json, path: string): Record<string, Json> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(path, `expected a mapping, got ${describe(value)}`);
  }
  return value as Record<string, Json>;
}

export function list(value: Json, path: string): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(path, `expected a list, got ${describe(value)}`);
  return value;
}

export function str(value: Json, path: string, fallback = ''): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') fail(path, `expected a string, got ${describe(value)}`);
  return value;
}

export function requiredStr(value: Json, path: string): string {
  const s = str(value, path);
  if (s === '') fail(path, 'is required');
  return s;
}

export function bool(value: Json, path: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') fail(path, `expected true or false, got ${describe(value)}`);
  return value;
}

export function uint(value: Json, path: string, max: number): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
    fail(path, `expected an integer from 0 to ${max}, got ${describe(value)}`);
  }
  return n;
}

export function port(value: Json, path: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    fail(path, `expected a port from 1 to 65535, got ${describe(value)}`);
  }
  return n;
}

/** One of `names` (case-sensitive), or `fallback` when absent. */
export function oneOf<T extends string>(
  value: Json,
  path: string,
  names: readonly T[],
  fallback: T,
): T {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || !(names as readonly string[]).includes(value)) {
    fail(path, `expected one of ${names.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}
