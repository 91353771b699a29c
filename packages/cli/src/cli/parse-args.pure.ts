// argv -> Invocation, checked against the command tree. Every error names the command, the flag
// or value at fault, and what would be accepted.
import {
  findCommand,
  flagsOf,
  UsageError,
  type Command,
  type Flag,
  type FlagValue,
  type Invocation,
} from './command-spec.js';
import { duration } from '@trellis/core/setting-parsers';

const DURATION = duration();

export function parseArgs(root: Command, argv: readonly string[]): Invocation {
  const globals = root.flags ?? [];
  const path: string[] = [];
  let command = root;
  const flags: Record<string, FlagValue | undefined> = {};
  const args: string[] = [];
  let help = false;
  let flagsDone = false;
  const where = () => ['trellis', ...path].join(' ');

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (flagsDone || token === '-' || !token.startsWith('-')) {
      const sub = !flagsDone && args.length === 0 ? findCommand(command, token) : undefined;
      if (sub) {
        command = sub;
        path.push(sub.name);
        continue;
      }
      if (command.commands?.length && !command.args && args.length === 0) {
        const names = command.commands.map((c) => c.name);
        throw new UsageError(
          `unknown command "${token}" for "${where()}"${suggest(token, names)}; expected one of: ${names.join(', ')}`,
          path,
        );
      }
      args.push(token);
      continue;
    }
    if (token === '--') {
      flagsDone = true;
      continue;
    }
    if (token === '-h' || token === '--help') {
      help = true;
      continue;
    }
    const known = flagsOf(command, globals);
    let name: string;
    let inline: string | undefined;
    let flag: Flag | undefined;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      name = eq === -1 ? token.slice(2) : token.slice(2, eq);
      inline = eq === -1 ? undefined : token.slice(eq + 1);
      flag = known.find((f) => f.name === name);
    } else {
      name = token.slice(1, 2);
      inline = token.length > 2 ? token.slice(2).replace(/^=/, '') : undefined;
      flag = known.find((f) => f.short === name);
    }
    if (!flag) {
      const display = token.startsWith('--') ? `--${name}` : `-${name}`;
      throw new UsageError(
        `unknown flag ${display} for "${where()}"${suggest(
          name,
          known.map((f) => f.name),
          '--',
        )} (see ${where()} --help)`,
        path,
      );
    }
    let raw: string;
    if (flag.type === 'boolean') {
      raw = inline ?? 'true';
    } else if (inline !== undefined) {
      raw = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-'))
        throw new UsageError(
          `flag --${flag.name} needs a value${flag.placeholder ? ` (${flag.placeholder})` : ''}`,
          path,
        );
      raw = next;
      i++;
    }
    const value = flagValue(flag, raw, path);
    if (flag.type === 'strings')
      flags[flag.name] = [...((flags[flag.name] as string[]) ?? []), raw];
    else flags[flag.name] = value;
  }

  if (command.commands?.length && !command.args && args.length === 0 && command !== root)
    help = help || path.length > 0;
  for (const f of flagsOf(command, globals))
    if (flags[f.name] === undefined && f.default !== undefined) flags[f.name] = f.default;
  if (!help) {
    const min = command.minArgs ?? 0;
    const max = command.maxArgs ?? (command.args ? Infinity : 0);
    if (args.length < min)
      throw new UsageError(
        `"${where()}" needs ${command.args ?? `${min} argument(s)`}; see ${where()} --help`,
        path,
      );
    if (args.length > max)
      throw new UsageError(
        max === 0
          ? `"${where()}" takes no arguments, got "${args.join(' ')}"`
          : `"${where()}" takes at most ${max} argument(s) (${command.args}), got ${args.length}`,
        path,
      );
  }
  return { path, command, flags, args, help };
}

function flagValue(flag: Flag, raw: string, path: readonly string[]): FlagValue {
  const bad = (what: string) =>
    new UsageError(`--${flag.name} must be ${what}, got "${raw}"`, path);
  switch (flag.type) {
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw bad('true or false');
    case 'int': {
      const n = Number(raw);
      const min = flag.min ?? -Infinity;
      const max = flag.max ?? Infinity;
      if (!/^-?\d+$/.test(raw) || n < min || n > max)
        throw bad(
          `an integer${Number.isFinite(min) ? ` from ${min}` : ''}${Number.isFinite(max) ? ` to ${max}` : ''}`,
        );
      return n;
    }
    case 'duration': {
      try {
        return DURATION.parse(raw);
      } catch {
        throw bad(DURATION.expected);
      }
    }
    case 'string':
    case 'strings':
      if (flag.values && !flag.values.includes(raw)) throw bad(`one of ${flag.values.join(', ')}`);
      if (raw === '') throw bad('non-empty');
      return raw;
  }
}

/** ` (did you mean "x"?)` when a known name is one or two edits away. */
function suggest(word: string, known: readonly string[], prefix = ''): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean "${prefix}${best}"?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
