// The /logging admin endpoint's query, read into level changes before any is applied, so a request
// with one bad entry changes nothing: `level=<level>` sets the default level, `<scope>=<level>`
// one scope's level, `<scope>=default` makes a scope follow the default again. Only scopes the
// program has (`known`) can be changed: a made-up name would otherwise be stored for good. Pure.
import { checkLogLevel, clip, type LogLevel } from '@trellis/core';

export interface LevelChanges {
  readonly level?: LogLevel;
  /** Scope -> its level, or null to follow the default level. */
  readonly scopes: Readonly<Record<string, LogLevel | null>>;
}

export function parseLoggingQuery(
  query: URLSearchParams,
  known: readonly string[],
): { ok: true; changes: LevelChanges } | { ok: false; error: string } {
  let level: LogLevel | undefined;
  const scopes: Record<string, LogLevel | null> = {};
  for (const [key, value] of query) {
    try {
      if (key === 'level') level = checkLogLevel(value);
      else if (!known.includes(key))
        return {
          ok: false,
          error: `unknown log scope ${JSON.stringify(clip(key, 64))}; known scopes: ${known.join(', ')}`,
        };
      else scopes[key] = value === 'default' ? null : checkLogLevel(value);
    } catch (err) {
      return { ok: false, error: `${clip(key, 64)}: ${(err as Error).message}` };
    }
  }
  return { ok: true, changes: { ...(level ? { level } : {}), scopes } };
}
