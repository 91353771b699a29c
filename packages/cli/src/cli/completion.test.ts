// The completion scripts, loaded into the real shells (bash, zsh, fish) and asked for completions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completionScript } from './completion.pure.js';
import { ROOT } from '../commands/tree.js';

const dir = mkdtempSync(join(tmpdir(), `trellis-completion-${process.pid}-`));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const script = (shell: 'bash' | 'zsh' | 'fish') => {
  const file = join(dir, `trellis.${shell}`);
  writeFileSync(file, completionScript(ROOT, shell));
  return file;
};
writeFileSync(join(dir, 'kube-dev.yaml'), '');

/** Words bash offers for the command line `trellis <words...>` with the cursor on the last word. */
function bash(...words: string[]): string[] {
  const line = ['trellis', ...words];
  const out = execFileSync(
    'bash',
    [
      '-c',
      `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _trellis; printf '%s\\n' "\${COMPREPLY[@]}"`,
      'bash',
      script('bash'),
      ...line,
    ],
    { encoding: 'utf8', cwd: dir },
  );
  return out.split('\n').filter(Boolean).sort();
}

test('bash completes commands, subcommands, flags, flag values and file names', () => {
  assert.deepEqual(bash('ins'), ['install']);
  assert.deepEqual(bash('waypoint', ''), [
    '--context',
    '--help',
    '--kubeconfig',
    'apply',
    'delete',
    'generate',
    'list',
    'status',
  ]);
  assert.deepEqual(bash('install', '--profile', ''), ['default', 'minimal']);
  assert.deepEqual(bash('--kubeconfig', 'x.yaml', 'install', '--pro'), ['--profile']);
  assert.deepEqual(bash('ztunnel-config', 'w'), ['workloads']);
  assert.deepEqual(bash('status', '-o', ''), ['json', 'table', 'yaml']);
  assert.deepEqual(bash('install', '--kubeconfig', 'kube-'), ['kube-dev.yaml']);
  assert.deepEqual(bash('completion', 'z'), []);
});

test('zsh loads the script and completes through the same tables', () => {
  execFileSync('zsh', ['-n', script('zsh')]);
  const words = (path: string[], prev: string) =>
    execFileSync(
      'zsh',
      [
        '-c',
        `source "$1"; shift; p="$(__trellis_path "$@")"; __trellis_words "$p" ${JSON.stringify(prev)}`,
        'zsh',
        script('zsh'),
        ...path,
      ],
      { encoding: 'utf8' },
    )
      .split('\n')
      .filter(Boolean)
      .sort();
  assert.ok(words([], '').includes('install'));
  assert.deepEqual(words(['cluster', 'create'], '--provider'), ['kind', 'local']);
  assert.ok(words(['x', 'translate'], '').includes('--filename'));
});

test('fish completes commands, subcommands with their summaries, and flag values', () => {
  const complete = (line: string) =>
    execFileSync('fish', ['-c', `source ${script('fish')}; complete -C ${JSON.stringify(line)}`], {
      encoding: 'utf8',
      cwd: dir,
    })
      .split('\n')
      .filter(Boolean);
  assert.deepEqual(complete('trellis unin'), [
    'uninstall\tremove Trellis, its node-side CNI config and in-pod rules (--purge: CRDs too)',
  ]);
  assert.deepEqual(
    complete('trellis waypoint ').map((l) => l.split('\t')[0]),
    ['apply', 'delete', 'generate', 'list', 'status'],
  );
  assert.deepEqual(
    complete('trellis install --profile ')
      .map((l) => l.split('\t')[0])
      .sort(),
    ['default', 'minimal'],
  );
});
