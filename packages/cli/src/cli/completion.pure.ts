// Shell completion scripts (bash, zsh, fish) generated from the command tree: subcommands, flags,
// and the values of flags that have a fixed set (or file names for FILE flags).
import type { Command, Flag } from './command-spec.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Node {
  /** Space-separated command path, "" for the root. */
  readonly path: string;
  readonly command: Command;
  readonly flags: readonly Flag[];
}

function nodes(root: Command): Node[] {
  const out: Node[] = [];
  const walk = (c: Command, path: string) => {
    out.push({
      path,
      command: c,
      flags: [...(c.flags ?? []), ...(c === root ? [] : (root.flags ?? []))],
    });
    for (const sub of c.commands ?? []) walk(sub, path ? `${path} ${sub.name}` : sub.name);
  };
  walk(root, '');
  return out;
}

const subNames = (c: Command) => (c.commands ?? []).flatMap((s) => [s.name, ...(s.aliases ?? [])]);
const takesValue = (f: Flag) => f.type !== 'boolean';
const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export function completionScript(root: Command, shell: Shell): string {
  switch (shell) {
    case 'bash':
      return bash(root);
    case 'zsh':
      return zsh(root);
    case 'fish':
      return fish(root);
  }
}

// The command path of the words typed so far, shared by bash and zsh: each word that names a
// subcommand of the current path extends it; flags that take a value skip their value.
function pathFunction(root: Command, fn: string): string {
  const all = nodes(root);
  const valueFlags = [
    ...new Set(
      all.flatMap((n) =>
        n.flags
          .filter(takesValue)
          .flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]),
      ),
    ),
  ];
  return `${fn}() {
  # $1..: the words before the cursor (without the program name)
  local path="" skip=0 w
  for w in "$@"; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$w" in
      ${valueFlags.join('|')}) skip=1 ;;
      -*) ;;
      *)
        case "$path:$w" in
${all
  .flatMap((n) =>
    (n.command.commands ?? []).flatMap((s) =>
      [s.name, ...(s.aliases ?? [])].map(
        (name) =>
          `          ${q(`${n.path}:${name}`)}) path=${q(n.path ? `${n.path} ${s.name}` : s.name)} ;;`,
      ),
    ),
  )
  .join('\n')}
        esac ;;
    esac
  done
  printf '%s' "$path"
}`;
}

function wordsFunction(root: Command, fn: string): string {
  return `${fn}() {
  # $1: command path; $2: the previous word. Prints candidate words, or @file for file names.
  case "$1:$2" in
${nodes(root)
  .flatMap((n) =>
    n.flags
      .filter(takesValue)
      .flatMap((f) =>
        [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])].map(
          (flag) =>
            `    ${q(`${n.path}:${flag}`)}) printf '%s\\n' ${f.values ? f.values.map(q).join(' ') : f.complete === 'file' || f.complete === 'dir' ? "'@file'" : "''"}; return ;;`,
        ),
      ),
  )
  .join('\n')}
  esac
  case "$1" in
${nodes(root)
  .map(
    (n) =>
      `    ${q(n.path)}) printf '%s\\n' ${[
        ...subNames(n.command),
        ...n.flags.map((f) => `--${f.name}`),
        '--help',
      ]
        .map(q)
        .join(' ')} ;;`,
  )
  .join('\n')}
  esac
}`;
}

function bash(root: Command): string {
  return `# bash completion for trellis. Load it with:
#   source <(trellis completion bash)
${pathFunction(root, '__trellis_path')}

${wordsFunction(root, '__trellis_words')}

_trellis() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev=""
  [ "$COMP_CWORD" -gt 1 ] && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local path words
  path="$(__trellis_path "\${COMP_WORDS[@]:1:COMP_CWORD-1}")"
  words="$(__trellis_words "$path" "$prev")"
  if [ "$words" = "@file" ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -o default -F _trellis trellis
`;
}

function zsh(root: Command): string {
  return `#compdef trellis
# zsh completion for trellis. Load it with:
#   source <(trellis completion zsh)
${pathFunction(root, '__trellis_path')}

${wordsFunction(root, '__trellis_words')}

_trellis() {
  local -a before candidates
  before=("\${(@)words[2,CURRENT-1]}")
  local path prev=""
  (( CURRENT > 2 )) && prev="\${words[CURRENT-1]}"
  path="$(__trellis_path "\${before[@]}")"
  candidates=("\${(@f)$(__trellis_words "$path" "$prev")}")
  if [[ "\${candidates[1]}" == "@file" ]]; then
    _files
  else
    compadd -- "\${candidates[@]}"
  fi
}
if (( $+functions[compdef] )); then
  compdef _trellis trellis
fi
`;
}

function fish(root: Command): string {
  const lines = [
    '# fish completion for trellis. Load it with:',
    '#   trellis completion fish | source',
    'function __trellis_path',
    '  set -l path ""',
    '  set -l skip 0',
    '  for w in (commandline -opc)[2..-1]',
    '    if test $skip = 1; set skip 0; continue; end',
    '    switch $w',
    `      case ${[
      ...new Set(
        nodes(root).flatMap((n) =>
          n.flags
            .filter(takesValue)
            .flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]),
        ),
      ),
    ].join(' ')}`,
    '        set skip 1',
    "      case '-*'",
    '      case "*"',
    '        switch "$path:$w"',
    ...nodes(root).flatMap((n) =>
      (n.command.commands ?? []).flatMap((s) =>
        [s.name, ...(s.aliases ?? [])].flatMap((name) => [
          `          case ${q(`${n.path}:${name}`)}`,
          `            set path ${q(n.path ? `${n.path} ${s.name}` : s.name)}`,
        ]),
      ),
    ),
    '        end',
    '    end',
    '  end',
    '  echo $path',
    'end',
    'function __trellis_at',
    '  test "$(__trellis_path)" = "$argv"',
    'end',
    'complete -c trellis -f',
  ];
  for (const n of nodes(root)) {
    const cond = `-n ${q(n.path ? `__trellis_at ${n.path}` : '__trellis_at')}`;
    for (const s of n.command.commands ?? [])
      lines.push(`complete -c trellis ${cond} -a ${q(s.name)} -d ${q(s.summary)}`);
    for (const f of n.flags) {
      const parts = [`complete -c trellis ${cond} -l ${f.name}`];
      if (f.short) parts.push(`-s ${f.short}`);
      if (f.values) parts.push(`-x -a ${q(f.values.join(' '))}`);
      else if (f.complete === 'file' || f.complete === 'dir') parts.push('-r -F');
      else if (takesValue(f)) parts.push('-x');
      parts.push(`-d ${q(f.description)}`);
      lines.push(parts.join(' '));
    }
  }
  return `${lines.join('\n')}\n`;
}
