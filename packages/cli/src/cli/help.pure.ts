// --help text of any command, from its declaration.
import type { Command, Flag } from './command-spec.js';

export function helpText(root: Command, path: readonly string[], command: Command): string {
  const name = ['trellis', ...path].join(' ');
  const lines: string[] = [];
  const usage = command.commands?.length
    ? `${name} <command> [flags]`
    : `${name}${command.args ? ` ${command.args}` : ''} [flags]`;
  lines.push(`Usage: ${usage}`, '');
  lines.push(command.description ?? command.summary, '');
  if (command.commands?.length) {
    lines.push('Commands:');
    const width = Math.max(...command.commands.map((c) => c.name.length)) + 2;
    for (const c of command.commands) lines.push(`  ${c.name.padEnd(width)}${c.summary}`);
    lines.push('');
  }
  if (command.flags?.length && command !== root)
    lines.push('Flags:', ...flagLines(command.flags), '');
  if (root.flags?.length) lines.push('Global flags:', ...flagLines(root.flags), '');
  if (command.examples?.length)
    lines.push('Examples:', ...command.examples.map((e) => `  ${e}`), '');
  if (command.commands?.length) lines.push(`Run "${name} <command> --help" for more.`, '');
  return lines.join('\n');
}

function flagLines(flags: readonly Flag[]): string[] {
  const heads = flags.map((f) => {
    const value =
      f.type === 'boolean' ? '' : ` ${f.values ? f.values.join('|') : (f.placeholder ?? 'VALUE')}`;
    return `${f.short ? `-${f.short}, ` : '    '}--${f.name}${value}`;
  });
  const width = Math.min(Math.max(...heads.map((h) => h.length)) + 2, 40);
  return flags.map((f, i) => {
    const head = heads[i]!;
    const dflt =
      f.default !== undefined && f.default !== false && f.type !== 'duration'
        ? ` (default ${JSON.stringify(f.default)})`
        : '';
    const text = `${f.description}${dflt}${f.type === 'strings' ? ' (repeatable)' : ''}`;
    return head.length + 2 > width
      ? `  ${head}\n  ${' '.repeat(width)}${text}`
      : `  ${head.padEnd(width)}${text}`;
  });
}
