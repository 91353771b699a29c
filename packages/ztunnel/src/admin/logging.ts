// The /logging admin endpoint's query, read into level changes before any is applied, so a request
// with one bad entry changes nothing: `level=<level>` sets the default level, `<scope>=<level>`
// one scope's level, `<scope>=default` makes a scope follow the default again. Pure.
import { checkLogLevel, type LogLevel } from '@trellis/core';

export interface LevelChanges {
  readonly level?: LogLevel;
  /** Scope -> its level, or null to follow the default level. */
  readonly scopes: Readonly<Record<string, LogLevel | null>>;
}

export function parseLoggingQuery(
  query: URLSearchParams,
): { ok: true; changes: LevelChanges } | { ok: false; error: string } {
  let level: LogLevel | undefined;
  const scopes: Record<string, LogLevel | null> = {};
  for (const [key, value] of query) {
    try {
      if (key === 'level') level = checkLogLevel(value);
      else if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(key))
        return { ok: false, error: `invalid scope name ${JSON.stringify(key)}` };
      else scopes[key] = value === 'default' ? null : checkLogLevel(value);
    } catch (err) {
      return { ok: false, error: `${key}: ${(err as Error).message}` };
    }
  }
  return { ok: true, changes: { ...(level ? { level } : {}), scopes } };
}
