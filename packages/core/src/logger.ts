// Structured JSON logging (pino) with named scopes whose levels can change at runtime; an admin
// `/logging` endpoint calls setLevel/setScopeLevel. Each module takes its own scope logger.
import { pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Level for the root logger and every scope without its own level. Default "info". */
  readonly level?: string;
  /** Program name, written as the `name` field of every line. */
  readonly name?: string;
  /** Where lines go; default stdout. Tests pass an object with a write(line) method. */
  readonly destination?: DestinationStream;
}

export interface LevelsSnapshot {
  /** The default level. */
  readonly level: LogLevel;
  /** Effective level of every scope created or given its own level so far. */
  readonly scopes: Readonly<Record<string, LogLevel>>;
}

export interface Log {
  /** The root logger; its lines have no `scope` field. */
  readonly root: Logger;
  /**
   * The logger for a named scope (lines carry `"scope": name`); the same object on every call.
   * Children made from it (`.child({ conn })`) follow the scope's level as it changes.
   */
  scope(name: string): Logger;
  /** Sets the default level, used by the root and by every scope without its own level. */
  setLevel(level: string): void;
  /** Gives a scope its own level; `null` makes it follow the default again. */
  setScopeLevel(scope: string, level: string | null): void;
  levels(): LevelsSnapshot;
}

/** Throws unless `level` is one of LOG_LEVELS. */
export function checkLogLevel(level: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(
      `unknown log level ${JSON.stringify(level)}; accepted: ${LOG_LEVELS.join(', ')}`,
    );
  }
  return level as LogLevel;
}

const SCOPE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function checkScopeName(name: string): void {
  if (!SCOPE_NAME.test(name)) {
    throw new Error(
      `invalid log scope name ${JSON.stringify(name)}: use letters, digits, '_', '.' or '-'`,
    );
  }
}

export function createLogger(opts: LoggerOptions = {}): Log {
  let defaultLevel = checkLogLevel(opts.level ?? 'info');
  const options = {
    level: defaultLevel,
    base: {},
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    ...(opts.name !== undefined ? { name: opts.name } : {}),
  };
  const root = opts.destination ? pino(options, opts.destination) : pino(options);

  // A pino child inherits its parent's level through the prototype chain until it gets its own,
  // so setting the level on a scope logger reaches every child made from it.
  const scopes = new Map<string, Logger>();
  const overrides = new Map<string, LogLevel>();

  return {
    root,
    scope(name) {
      checkScopeName(name);
      let logger = scopes.get(name);
      if (!logger) {
        logger = root.child({ scope: name });
        logger.level = overrides.get(name) ?? defaultLevel;
        scopes.set(name, logger);
      }
      return logger;
    },
    setLevel(level) {
      defaultLevel = checkLogLevel(level);
      root.level = defaultLevel;
      for (const [name, logger] of scopes) if (!overrides.has(name)) logger.level = defaultLevel;
    },
    setScopeLevel(scope, level) {
      checkScopeName(scope);
      if (level === null) overrides.delete(scope);
      else overrides.set(scope, checkLogLevel(level));
      const logger = scopes.get(scope);
      if (logger) logger.level = overrides.get(scope) ?? defaultLevel;
    },
    levels() {
      const out: Record<string, LogLevel> = {};
      for (const name of [...new Set([...scopes.keys(), ...overrides.keys()])].sort()) {
        out[name] = overrides.get(name) ?? defaultLevel;
      }
      return { level: defaultLevel, scopes: out };
    },
  };
}
