import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLoggingQuery } from './logging.js';

test('parseLoggingQuery reads level and scope entries, or says what is wrong', () => {
  const q = (s: string) => parseLoggingQuery(new URLSearchParams(s));
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
  assert.deepEqual(q('bad%20scope=info'), { ok: false, error: 'invalid scope name "bad scope"' });
});
