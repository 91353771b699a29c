import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from './command-spec.js';
import { helpText } from './help.pure.js';
import { ROOT } from '../commands/tree.js';
import { HANDLERS } from '../commands/tree.js';

function walk(c: Command, path: string[], out: { path: string[]; command: Command }[]) {
  out.push({ path, command: c });
  for (const s of c.commands ?? []) walk(s, [...path, s.name], out);
  return out;
}
const ALL = walk(ROOT, [], []);

test('every command has help with its usage, its flags and the global flags', () => {
  for (const { path, command } of ALL) {
    const text = helpText(ROOT, path, command);
    const name = ['trellis', ...path].join(' ');
    assert.match(text, new RegExp(`^Usage: ${name}`), name);
    for (const f of command.flags ?? [])
      if (command !== ROOT)
        assert.ok(text.includes(`--${f.name}`), `${name} --help lists --${f.name}`);
    if (path.length)
      assert.match(text, /Global flags:\n.*--kubeconfig FILE.*\n.*--context NAME/, name);
    for (const s of command.commands ?? [])
      assert.ok(text.includes(`  ${s.name}`), `${name} --help lists ${s.name}`);
  }
});

test('the root help names the exit codes', () => {
  assert.match(
    helpText(ROOT, [], ROOT),
    /Exit codes: 0 success; 1 the operation failed; 2 the command line is wrong; 3 a check found problems/,
  );
});

test('install --help lists every --set key; enum flags show their values and defaults', () => {
  const install = ROOT.commands!.find((c) => c.name === 'install')!;
  const text = helpText(ROOT, ['install'], install);
  for (const key of ['images.tag', 'controlPlane.replicas', 'cni.confDir', 'ztunnel.workers'])
    assert.ok(text.includes(key), key);
  assert.match(text, /--profile default\|minimal/);
  assert.match(text, /\(default "default"\)/);
});

test('every leaf command has a handler and every handler a command', () => {
  const leaves = ALL.filter(({ command }) => !command.commands?.length && command !== ROOT).map(
    ({ path }) => path.join(' '),
  );
  assert.deepEqual(leaves.sort(), Object.keys(HANDLERS).sort());
});
