// Typed settings read once from command-line flags and environment variables. The source is
// passed in (tests pass plain maps), so only an app's entry point ever touches process.argv/env.
// Precedence: flag > environment variable > default.
import type { Parser } from './setting-parsers.js';

export interface Setting<T> {
  /** Command-line flag, e.g. "--ca-dir". */
  readonly flag?: string;
  /** Environment variable, e.g. "TRELLIS_CA_DIR". An empty value counts as unset. */
  readonly env?: string;
  readonly description: string;
  readonly parser: Parser<T>;
  /** Used when neither flag nor variable is given. */
  readonly default?: T;
  /** Without a default: `true` makes the setting mandatory, otherwise its value may be undefined. */
  readonly required?: true;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SettingsSpec = Readonly<Record<string, Setting<any>>>;

/** The value type of one setting: required or defaulted settings are always present. */
export type SettingValue<S> =
  S extends Setting<infer T>
    ? S extends { required: true }
      ? T
      : S extends { default: unknown }
        ? T
        : T | undefined
    : never;

export type Settings<S extends SettingsSpec> = { readonly [K in keyof S]: SettingValue<S[K]> };

/** Source of raw values: the arguments after the program name, and the environment. */
export interface SettingsSource {
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

/**
 * Declares a settings spec. An identity function that keeps the literal types (`required: true`)
 * so `loadSettings` can infer the result type, and checks each default against its parser.
 */
export function defineSettings<const S extends SettingsSpec>(
  spec: S & { [K in keyof S]: CheckedSetting<S[K]> },
): S {
  validateSpec(spec);
  return spec;
}

type CheckedSetting<S> = S extends { parser: Parser<infer T> } ? Setting<T> : never;

/** True when the arguments ask for help (`--help` or `-h`); the app then prints `helpText`. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/**
 * Reads every setting of `spec` from `source`. Collects all problems (unknown flags, invalid
 * values, missing required settings) and throws them together as one ConfigError.
 * The result is frozen, and so are list and hostPort values inside it.
 */
export function loadSettings<const S extends SettingsSpec>(
  spec: S,
  source: SettingsSource,
): Settings<S> {
  validateSpec(spec);
  const problems: string[] = [];
  const flagValues = readFlags(spec, source.argv ?? [], problems);
  const env = source.env ?? {};
  const out: Record<string, unknown> = {};

  for (const [key, setting] of Object.entries(spec)) {
    const fromFlag = setting.flag !== undefined ? flagValues.get(setting.flag) : undefined;
    const envValue = setting.env !== undefined ? env[setting.env] : undefined;
    let origin: string | undefined;
    let raw: string | undefined;
    if (fromFlag !== undefined) {
      origin = setting.flag;
      raw = fromFlag;
    } else if (envValue !== undefined && envValue !== '') {
      origin = setting.env;
      raw = envValue;
    }

    if (raw === undefined || origin === undefined) {
      if ('default' in setting) out[key] = setting.default;
      else if (setting.required)
        problems.push(
          `missing required setting: ${settingNames(setting)} (${setting.description})`,
        );
      else out[key] = undefined;
      continue;
    }
    try {
      out[key] = setting.parser.parse(raw);
    } catch (err) {
      problems.push(
        `${origin}: invalid value ${JSON.stringify(raw)} (${(err as Error).message}); expected ${setting.parser.expected}`,
      );
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as Settings<S>;
}

/** Names a setting the way a user sets it: "--ca-dir or TRELLIS_CA_DIR". */
export function settingNames(setting: Setting<unknown>): string {
  return [setting.flag, setting.env].filter((n) => n !== undefined).join(' or ');
}

function readFlags(
  spec: SettingsSpec,
  argv: readonly string[],
  problems: string[],
): Map<string, string> {
  const byFlag = new Map<string, Setting<unknown>>();
  for (const setting of Object.values(spec)) if (setting.flag) byFlag.set(setting.flag, setting);
  const values = new Map<string, string>();

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      problems.push(
        `unexpected argument ${JSON.stringify(arg)}: settings are given as --flag=value`,
      );
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const setting = byFlag.get(flag);
    if (!setting) {
      const known = [...byFlag.keys()].sort().join(', ') || '(none)';
      problems.push(`unknown flag ${flag}; accepted flags: ${known}`);
      continue;
    }
    let value: string;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else if (setting.parser.bare !== undefined) {
      // "--verbose" alone; "--verbose false" would be ambiguous, so that needs --verbose=false.
      value = setting.parser.bare;
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      value = argv[++i];
    } else {
      problems.push(`${flag}: missing value; expected ${setting.parser.expected}`);
      continue;
    }
    if (values.has(flag)) {
      problems.push(`${flag}: given more than once`);
      continue;
    }
    values.set(flag, value);
  }
  return values;
}

const FLAG_PATTERN = /^--[a-z0-9]+(-[a-z0-9]+)*$/;
const ENV_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

/** Catches mistakes in a spec (programming errors, not user errors). */
function validateSpec(spec: SettingsSpec): void {
  const seen = new Map<string, string>();
  for (const [key, setting] of Object.entries(spec)) {
    if (!setting.flag && !setting.env)
      throw new Error(`setting ${key}: needs a flag or an environment variable`);
    if (setting.flag === '--help') throw new Error(`setting ${key}: --help is reserved`);
    if (setting.flag !== undefined && !FLAG_PATTERN.test(setting.flag)) {
      throw new Error(
        `setting ${key}: flag ${JSON.stringify(setting.flag)} must look like --lower-case-words`,
      );
    }
    if (setting.env !== undefined && !ENV_PATTERN.test(setting.env)) {
      throw new Error(
        `setting ${key}: environment variable ${JSON.stringify(setting.env)} must be UPPER_SNAKE_CASE`,
      );
    }
    if (setting.required && 'default' in setting)
      throw new Error(`setting ${key}: is required and has a default`);
    for (const name of [setting.flag, setting.env]) {
      if (name === undefined) continue;
      const other = seen.get(name);
      if (other) throw new Error(`settings ${other} and ${key} both use ${name}`);
      seen.set(name, key);
    }
  }
}
