import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from './command-spec.js';
import { parseArgs } from './parse-args.pure.js';
import { ROOT } from '../commands/tree.js';

const parse = (...argv: string[]) => parseArgs(ROOT, argv);

test('a nested command with every flag form, defaults filled in', () => {
  const inv = parse(
    'waypoint',
    'apply',
    '-n',
    'shop',
    '--name=wp',
    '--enroll-namespace',
    '--timeout',
    '90s',
  );
  assert.deepEqual(inv.path, ['waypoint', 'apply']);
  assert.equal(inv.flags['namespace'], 'shop');
  assert.equal(inv.flags['name'], 'wp');
  assert.equal(inv.flags['enroll-namespace'], true);
  assert.equal(inv.flags['timeout'], 90_000);
  assert.equal(inv.flags['for'], 'service', 'default of --for');
  assert.equal(inv.flags['wait'], true, 'default of --wait');
  assert.equal(inv.help, false);
});

test('global flags go before or after the command; -o takes attached or separate values', () => {
  const a = parse('--kubeconfig', '/k', 'status', '-ojson');
  const b = parse('status', '--context', 'dev', '-o', 'yaml');
  assert.deepEqual([a.flags['kubeconfig'], a.flags['output']], ['/k', 'json']);
  assert.deepEqual([b.flags['context'], b.flags['output']], ['dev', 'yaml']);
});

test('repeatable flags collect, booleans take =false, aliases select their command', () => {
  const inv = parse('install', '--set', 'a=1', '--set=b=2', '--wait=false');
  assert.deepEqual(inv.flags['set'], ['a=1', 'b=2']);
  assert.equal(inv.flags['wait'], false);
  assert.deepEqual(parse('verify-install').path, ['status']);
  assert.deepEqual(parse('x', 'translate', '-f', 'a.yaml', '-f', '-').flags['filename'], [
    'a.yaml',
    '-',
  ]);
});

test('help: -h anywhere, and a command group without its subcommand', () => {
  assert.equal(parse('install', '-h').help, true);
  assert.equal(parse('waypoint').help, true);
  assert.deepEqual(parse('waypoint').path, ['waypoint']);
  assert.equal(parse('--help').help, true);
});

test('positional arguments: counted, and -- ends the flags', () => {
  assert.deepEqual(parse('waypoint', 'delete', 'a', 'b').args, ['a', 'b']);
  assert.deepEqual(parse('completion', '--', '--weird').args, ['--weird']);
  assert.throws(() => parse('completion'), /"trellis completion" needs SHELL/);
  assert.throws(() => parse('completion', 'bash', 'zsh'), /takes at most 1 argument/);
  assert.throws(() => parse('status', 'extra'), /"trellis status" takes no arguments, got "extra"/);
});

test('every mistake is a UsageError that says what is wrong and what is accepted', () => {
  const cases: [string[], RegExp][] = [
    [
      ['instal'],
      /unknown command "instal" for "trellis" \(did you mean "install"\?\); expected one of: install, /,
    ],
    [
      ['install', '--profil', 'x'],
      /unknown flag --profil for "trellis install" \(did you mean "--profile"\?\)/,
    ],
    [['install', '--profile', 'huge'], /--profile must be one of default, minimal, got "huge"/],
    [['install', '--timeout', 'soon'], /--timeout must be a duration such as .*, got "soon"/],
    [['cluster', 'create', '--nodes', 'two'], /--nodes must be an integer from 1 to 50, got "two"/],
    [['cluster', 'create', '--nodes', '0'], /--nodes must be an integer from 1 to 50, got "0"/],
    [['install', '--wait=maybe'], /--wait must be true or false, got "maybe"/],
    [['status', '--kubeconfig'], /flag --kubeconfig needs a value \(FILE\)/],
    [['status', '-o', 'xml'], /--output must be one of table, json, yaml, got "xml"/],
    [['waypoint', 'frob'], /unknown command "frob" for "trellis waypoint"/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parse(...argv),
      (e: unknown) => e instanceof UsageError && message.test(e.message),
      `trellis ${argv.join(' ')}`,
    );
  }
});
