import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, parseFlags, usage, type FlagSpec } from './flags.pure.js';

const SPECS: FlagSpec[] = [
  { name: 'port', kind: 'ints', default: [8080], help: 'ports' },
  { name: 'header', short: 'H', kind: 'repeated', help: 'headers' },
  { name: 'alpn', kind: 'strings', help: 'alpn' },
  { name: 'count', kind: 'int', default: 1, help: 'count' },
  { name: 'k', short: 'k', kind: 'bool', help: 'insecure' },
  { name: 'crt', kind: 'string', help: 'cert' },
];

test('takes the pflag forms: =value, separate value, shorthands, bools, lists', () => {
  const f = parseFlags(
    [
      '--port=1',
      'http://x',
      '--port',
      '2,3',
      '-H',
      'a:1',
      '-Hb:2',
      '-H=c:3',
      '-k',
      '--alpn=h2,http/1.1',
      '--crt',
      'f',
    ],
    SPECS,
  );
  assert.deepEqual(
    f.values.port,
    [1, 2, 3],
    'the first use replaces the default, later ones append',
  );
  assert.deepEqual(f.values.header, ['a:1', 'b:2', 'c:3'], 'repeated values are kept whole');
  assert.deepEqual(f.values.alpn, ['h2', 'http/1.1']);
  assert.equal(f.values.k, true);
  assert.equal(f.values.crt, 'f');
  assert.equal(f.values.count, 1, 'default');
  assert.deepEqual(f.positional, ['http://x']);
  assert.deepEqual([...f.changed].sort(), ['alpn', 'crt', 'header', 'k', 'port']);
});

test('a header value with commas stays one header', () => {
  assert.deepEqual(parseFlags(['-H', 'X-A: a,b'], SPECS).values.header, ['X-A: a,b']);
});

test('bools take =false; -- ends the flags; --help is noticed', () => {
  const f = parseFlags(['--k=false', '--help', '--', '--port=9'], SPECS);
  assert.equal(f.values.k, false);
  assert.equal(f.help, true);
  assert.deepEqual(f.positional, ['--port=9']);
  assert.deepEqual(f.values.port, [8080]);
});

test('bad flags are errors that name the flag and the problem', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--nope'], /^unknown flag: --nope$/],
    [['-z'], /^unknown shorthand flag: -z in -z$/],
    [['--port=http'], /invalid argument "http" for --port: not an integer/],
    [['--port=1,x'], /invalid argument "x" for --port/],
    [['--count=1.5'], /invalid argument "1.5" for --count: not an integer/],
    [['--count'], /flag needs an argument: --count/],
    [['--k=yes'], /invalid argument "yes" for --k: want true or false/],
    [['-kx'], /flag -k takes no value \(in -kx\)/],
    [['--hbone=x'], /flag --hbone is not supported: not here/],
  ];
  for (const [argv, message] of cases)
    assert.throws(
      () => parseFlags(argv, SPECS, { hbone: 'not here' }),
      (e: Error) => {
        assert.ok(e instanceof FlagError, `${argv.join(' ')}: ${e}`);
        assert.match(e.message, message);
        return true;
      },
    );
});

test('usage lists every flag with its default', () => {
  const text = usage('Usage: x', SPECS);
  assert.match(text, /--port ints\s+ports \(default 8080\)/);
  assert.match(text, /-H, --header string\s+headers/);
  assert.match(text, /-h, --help/);
});
