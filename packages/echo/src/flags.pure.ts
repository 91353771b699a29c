// A command-line parser with the conventions of the Go flag library Istio's echo commands use
// (spf13/pflag): `--name=value` or `--name value`, booleans as `--name` or `--name=false`,
// one-letter shorthands (`-H value`, `-Hvalue`, `-k`), list flags that take comma-separated values
// and append when repeated (the first use replaces the default), `--` ending the flags. Unknown
// flags, missing or malformed values, and the upstream flags this implementation does not offer
// are errors that say which flag and why.

export type FlagKind = 'bool' | 'string' | 'int' | 'ints' | 'strings' | 'repeated';

export interface FlagSpec {
  name: string;
  short?: string;
  /** ints/strings: comma-separated, appended when repeated; repeated: one whole value per use. */
  kind: FlagKind;
  help: string;
  default?: boolean | string | number | number[] | string[];
}

export type FlagValue = boolean | string | number | number[] | string[];

export interface ParsedFlags {
  values: Record<string, FlagValue>;
  /** Flags given on the command line (as opposed to defaults). */
  changed: Set<string>;
  positional: string[];
  help: boolean;
}

export class FlagError extends Error {}

/**
 * Parses argv against specs. `unsupported` names upstream flags this program knows but does not
 * implement (name -> why), so using one fails with that reason instead of "unknown flag".
 */
export function parseFlags(
  argv: string[],
  specs: FlagSpec[],
  unsupported: Record<string, string> = {},
): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const values: Record<string, FlagValue> = {};
  for (const s of specs) values[s.name] = defaultOf(s);
  const changed = new Set<string>();
  const positional: string[] = [];
  let help = false;

  const set = (spec: FlagSpec, raw: string, shown: string) => {
    const first = !changed.has(spec.name);
    changed.add(spec.name);
    switch (spec.kind) {
      case 'bool':
        values[spec.name] = parseBool(raw, shown);
        return;
      case 'string':
        values[spec.name] = raw;
        return;
      case 'int':
        values[spec.name] = parseInt(raw, shown);
        return;
      case 'ints': {
        const items = raw === '' ? [] : raw.split(',').map((x) => parseInt(x.trim(), shown));
        values[spec.name] = first ? items : [...(values[spec.name] as number[]), ...items];
        return;
      }
      case 'strings': {
        const items = raw === '' ? [] : raw.split(',').map((x) => x.trim());
        values[spec.name] = first ? items : [...(values[spec.name] as string[]), ...items];
        return;
      }
      case 'repeated':
        values[spec.name] = first ? [raw] : [...(values[spec.name] as string[]), raw];
        return;
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    let spec: FlagSpec | undefined;
    let shown: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      shown = `--${name}`;
      if (Object.hasOwn(unsupported, name))
        throw new FlagError(`flag ${shown} is not supported: ${unsupported[name]}`);
      spec = byName.get(name);
      if (!spec) throw new FlagError(`unknown flag: ${shown}`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      const letter = arg[1]!;
      shown = `-${letter}`;
      if (Object.hasOwn(unsupported, letter))
        throw new FlagError(`flag ${shown} is not supported: ${unsupported[letter]}`);
      spec = byShort.get(letter);
      if (!spec) throw new FlagError(`unknown shorthand flag: ${shown} in ${arg}`);
      if (arg.length > 2) inline = arg[2] === '=' ? arg.slice(3) : arg.slice(2);
      if (spec.kind === 'bool' && inline !== undefined && arg[2] !== '=')
        throw new FlagError(`flag ${shown} takes no value (in ${arg})`);
    } else {
      positional.push(arg);
      continue;
    }
    if (inline === undefined) {
      if (spec.kind === 'bool') inline = 'true';
      else if (i + 1 < argv.length) inline = argv[++i]!;
      else throw new FlagError(`flag needs an argument: ${shown}`);
    }
    set(spec, inline, shown);
  }
  return { values, changed, positional, help };
}

/** Upstream flags a program recognises but does not offer, each refused with `reason`. */
export function unsupportedFlags(names: string[], reason: string): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, reason]));
}

/** `--help` text: one line per flag with its shorthand, kind and default. */
export function usage(title: string, specs: FlagSpec[]): string {
  const rows = specs.map((s) => {
    const name = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.kind === 'bool' ? '' : ` ${placeholder(s.kind)}`}`;
    const def =
      s.default === undefined || (Array.isArray(s.default) && s.default.length === 0)
        ? ''
        : ` (default ${String(s.default)})`;
    return [name, `${s.help}${def}`] as const;
  });
  const width = Math.max(...rows.map(([n]) => n.length));
  return `${title}\n\nFlags:\n${rows.map(([n, h]) => `  ${n.padEnd(width)}  ${h}`).join('\n')}\n  -h, --help${' '.repeat(Math.max(0, width - 8))}  this help\n`;
}

function placeholder(kind: FlagKind): string {
  return {
    bool: '',
    string: 'string',
    int: 'int',
    ints: 'ints',
    strings: 'strings',
    repeated: 'string',
  }[kind];
}

function defaultOf(s: FlagSpec): FlagValue {
  if (s.default !== undefined)
    return Array.isArray(s.default) ? ([...s.default] as FlagValue) : s.default;
  switch (s.kind) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'int':
      return 0;
    default:
      return [];
  }
}

function parseBool(raw: string, shown: string): boolean {
  if (/^(1|t|true|TRUE|True)$/.test(raw)) return true;
  if (/^(0|f|false|FALSE|False)$/.test(raw)) return false;
  throw new FlagError(`invalid argument "${raw}" for ${shown}: want true or false`);
}

function parseInt(raw: string, shown: string): number {
  if (!/^[-+]?\d+$/.test(raw))
    throw new FlagError(`invalid argument "${raw}" for ${shown}: not an integer`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n))
    throw new FlagError(`invalid argument "${raw}" for ${shown}: out of range`);
  return n;
}
