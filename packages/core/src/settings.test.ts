import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bool, duration, hostPort, int, list, oneOf, string } from './setting-parsers.js';
import { ConfigError, defineSettings, loadSettings, wantsHelp } from './settings.js';

const spec = defineSettings({
  caDir: {
    flag: '--ca-dir',
    env: 'TRELLIS_CA_DIR',
    default: '/etc/cacerts',
    description: 'Directory holding the CA certificates.',
    parser: string(),
  },
  port: {
    flag: '--port',
    env: 'TRELLIS_PORT',
    default: 15012,
    description: 'Port.',
    parser: int({ min: 1, max: 65535 }),
  },
  debug: {
    flag: '--debug',
    env: 'TRELLIS_DEBUG',
    default: false,
    description: 'Debug.',
    parser: bool(),
  },
  ttl: {
    env: 'TRELLIS_TTL',
    default: 86_400_000,
    description: 'Certificate lifetime.',
    parser: duration(),
  },
  mode: {
    flag: '--mode',
    default: 'strict',
    description: 'Mode.',
    parser: oneOf(['strict', 'permissive']),
  },
  namespaces: {
    env: 'TRELLIS_NAMESPACES',
    default: [],
    description: 'Namespaces.',
    parser: list(),
  },
  xds: {
    flag: '--xds-address',
    env: 'TRELLIS_XDS_ADDRESS',
    required: true,
    description: 'xDS server.',
    parser: hostPort(),
  },
  otlp: { env: 'TRELLIS_OTLP_ENDPOINT', description: 'OTLP collector.', parser: string() },
});

const XDS = { TRELLIS_XDS_ADDRESS: 'istiod:15012' };

test('defaults apply when neither flag nor variable is given', () => {
  const s = loadSettings(spec, { argv: [], env: XDS });
  assert.deepEqual(
    { ...s },
    {
      caDir: '/etc/cacerts',
      port: 15012,
      debug: false,
      ttl: 86_400_000,
      mode: 'strict',
      namespaces: [],
      xds: { host: 'istiod', port: 15012 },
      otlp: undefined,
    },
  );
});

test('the result is typed from the spec and frozen', () => {
  const s = loadSettings(spec, { env: XDS });
  // Compile-time checks: these assignments fail to build if inference breaks.
  const port: number = s.port;
  const mode: 'strict' | 'permissive' = s.mode;
  const xdsHost: string = s.xds.host;
  const otlp: string | undefined = s.otlp;
  const namespaces: readonly string[] = s.namespaces;
  assert.deepEqual(
    [port, mode, xdsHost, otlp, namespaces],
    [15012, 'strict', 'istiod', undefined, []],
  );
  assert.ok(Object.isFrozen(s));
  assert.throws(() => {
    (s as { port: number }).port = 1;
  }, TypeError);
});

test('a flag wins over the variable, which wins over the default', () => {
  const env = { ...XDS, TRELLIS_PORT: '16000', TRELLIS_CA_DIR: '/env/ca' };
  const s = loadSettings(spec, { argv: ['--port=17000'], env });
  assert.equal(s.port, 17000);
  assert.equal(s.caDir, '/env/ca');
  assert.equal(s.debug, false);
});

test('flags take their value after = or as the next argument', () => {
  const s = loadSettings(spec, {
    argv: ['--ca-dir', '/flag/ca', '--mode=permissive', '--xds-address', '[::1]:15012', '--debug'],
    env: {},
  });
  assert.equal(s.caDir, '/flag/ca');
  assert.equal(s.mode, 'permissive');
  assert.deepEqual(s.xds, { host: '::1', port: 15012 });
  assert.equal(s.debug, true);
  assert.equal(loadSettings(spec, { argv: ['--debug=false'], env: XDS }).debug, false);
});

test('an empty environment variable counts as unset', () => {
  const s = loadSettings(spec, { env: { ...XDS, TRELLIS_PORT: '', TRELLIS_OTLP_ENDPOINT: '' } });
  assert.equal(s.port, 15012);
  assert.equal(s.otlp, undefined);
});

test('environment values are parsed by the setting parser', () => {
  const s = loadSettings(spec, { env: { ...XDS, TRELLIS_TTL: '1h', TRELLIS_NAMESPACES: 'a, b' } });
  assert.equal(s.ttl, 3_600_000);
  assert.deepEqual(s.namespaces, ['a', 'b']);
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('an invalid value names the flag, the value and what is accepted', () => {
  const err = configError(() => loadSettings(spec, { argv: ['--port=99999'], env: XDS }));
  assert.equal(
    err.message,
    '--port: invalid value "99999" (above the maximum 65535); expected an integer from 1 to 65535',
  );
});

test('an invalid environment value names the variable', () => {
  const err = configError(() => loadSettings(spec, { env: { ...XDS, TRELLIS_TTL: '10' } }));
  assert.match(
    err.message,
    /^TRELLIS_TTL: invalid value "10" \(not a duration\); expected a duration such as 250ms/,
  );
});

test('an unknown flag is rejected with the list of accepted flags', () => {
  const err = configError(() => loadSettings(spec, { argv: ['--ca-directory=/x'], env: XDS }));
  assert.equal(
    err.message,
    'unknown flag --ca-directory; accepted flags: --ca-dir, --debug, --mode, --port, --xds-address',
  );
});

test('a missing required setting names its flag and variable', () => {
  const err = configError(() => loadSettings(spec, { env: {} }));
  assert.equal(
    err.message,
    'missing required setting: --xds-address or TRELLIS_XDS_ADDRESS (xDS server.)',
  );
});

test('all problems are reported together', () => {
  const err = configError(() =>
    loadSettings(spec, { argv: ['--mode=loose', 'stray', '--port'], env: { TRELLIS_TTL: 'soon' } }),
  );
  assert.deepEqual(err.problems, [
    'unexpected argument "stray": settings are given as --flag=value',
    '--port: missing value; expected an integer from 1 to 65535',
    'TRELLIS_TTL: invalid value "soon" (not a duration); expected a duration such as 250ms, 5s, 1m, 24h or 1h30m',
    '--mode: invalid value "loose" (not an accepted value); expected one of strict, permissive',
    'missing required setting: --xds-address or TRELLIS_XDS_ADDRESS (xDS server.)',
  ]);
});

test('a flag given twice is an error', () => {
  const err = configError(() => loadSettings(spec, { argv: ['--port=1', '--port=2'], env: XDS }));
  assert.equal(err.message, '--port: given more than once');
});

test('mistakes in the spec itself are caught', () => {
  const s = string();
  assert.throws(
    () => loadSettings({ a: { description: 'x', parser: s } }, {}),
    /needs a flag or an environment variable/,
  );
  assert.throws(
    () => loadSettings({ a: { flag: '--CaDir', description: 'x', parser: s } }, {}),
    /--lower-case-words/,
  );
  assert.throws(
    () => loadSettings({ a: { env: 'ca-dir', description: 'x', parser: s } }, {}),
    /UPPER_SNAKE_CASE/,
  );
  assert.throws(
    () => loadSettings({ a: { flag: '--help', description: 'x', parser: s } }, {}),
    /reserved/,
  );
  assert.throws(
    () =>
      loadSettings(
        {
          a: { env: 'A', description: 'x', parser: s },
          b: { env: 'A', description: 'y', parser: s },
        },
        {},
      ),
    /settings a and b both use A/,
  );
});

test('wantsHelp spots --help and -h', () => {
  assert.equal(wantsHelp(['--port=1', '--help']), true);
  assert.equal(wantsHelp(['-h']), true);
  assert.equal(wantsHelp(['--port=1']), false);
});
