import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duration, hostPort, int, string } from './setting-parsers.js';
import { defineSettings } from './settings.js';
import { helpText } from './settings-help.js';

test('help lists every flag, variable, accepted values, default and description', () => {
  const spec = defineSettings({
    caDir: {
      flag: '--ca-dir',
      env: 'TRELLIS_CA_DIR',
      default: '/etc/cacerts',
      description: 'CA directory.',
      parser: string(),
    },
    port: {
      env: 'TRELLIS_PORT',
      default: 15012,
      description: 'Listen port.',
      parser: int({ min: 1, max: 65535 }),
    },
    refresh: {
      flag: '--refresh',
      default: 90_000,
      description: 'Refresh interval.',
      parser: duration(),
    },
    xds: { flag: '--xds-address', required: true, description: 'xDS server.', parser: hostPort() },
    otlp: { env: 'TRELLIS_OTLP_ENDPOINT', description: 'OTLP collector.', parser: string() },
  });
  assert.equal(
    helpText('trellis-ca', 'the Trellis certificate authority', spec),
    [
      'trellis-ca: the Trellis certificate authority',
      '',
      'Usage: trellis-ca [--flag=value ...]',
      '',
      'Settings (a flag wins over its environment variable, which wins over the default):',
      '',
      '  --ca-dir, TRELLIS_CA_DIR',
      '      CA directory.',
      '      Accepts a string. Default: /etc/cacerts.',
      '',
      '  TRELLIS_PORT',
      '      Listen port.',
      '      Accepts an integer from 1 to 65535. Default: 15012.',
      '',
      '  --refresh',
      '      Refresh interval.',
      '      Accepts a duration such as 250ms, 5s, 1m, 24h or 1h30m. Default: 1m30s.',
      '',
      '  --xds-address',
      '      xDS server.',
      '      Accepts host:port, e.g. 127.0.0.1:15010, [::1]:15012 or :15010. Required.',
      '',
      '  TRELLIS_OTLP_ENDPOINT',
      '      OTLP collector.',
      '      Accepts a string. Optional, no default.',
      '',
    ].join('\n'),
  );
});

test('an empty default is shown as ""', () => {
  const spec = defineSettings({
    prefix: { env: 'P', default: '', description: 'Prefix.', parser: string() },
  });
  assert.match(helpText('p', 's', spec), /Default: ""\./);
});
