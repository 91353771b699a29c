import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLoggingQuery } from './logging.js';

test('parseLoggingQuery reads level and scope entries, or says what is wrong', () => {
  const q = (s: string) => parseLoggingQuery(new URLSearchParams(s), ['rbac', 'xds']);
  assert.deepEqual(q('level=debug'), { ok: true, changes: { level: 'debug', scopes: {} } });
  assert.deepEqual(q('rbac=trace&xds=default'), {
    ok: true,
    changes: { scopes: { rbac: 'trace', xds: null } },
  });
  assert.deepEqual(q('level=loud'), {
    ok: false,
    error:
      'level: unknown log level "loud"; accepted: trace, debug, info, warn, error, fatal, silent',
  });
  assert.deepEqual(q('bad%20scope=info'), {
    ok: false,
    error: 'unknown log scope "bad scope"; known scopes: rbac, xds',
  });
  const long = q(`${'x'.repeat(1000)}=info`);
  assert.equal(long.ok, false);
  assert.ok(!long.ok && long.error.length < 150, 'client text is clipped in the message');
});
