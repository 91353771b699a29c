// The static token file: validated at start-up with every problem named, tokens never echoed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStaticTokens, staticIdentities } from './static.js';

test('YAML and JSON token files parse to callers with their nodes', async () => {
  const yaml = parseStaticTokens(
    '- {token: a, namespace: default, serviceAccount: web, node: n1}\n- {token: b, namespace: prod, serviceAccount: api}\n',
  );
  const json = parseStaticTokens(
    JSON.stringify([
      { token: 'a', namespace: 'default', serviceAccount: 'web', node: 'n1' },
      { token: 'b', namespace: 'prod', serviceAccount: 'api' },
    ]),
  );
  assert.deepEqual(yaml, json);
  const { authenticator, nodeIndex } = staticIdentities(yaml);
  assert.deepEqual(await authenticator.authenticate('a'), {
    namespace: 'default',
    serviceAccount: 'web',
    node: 'n1',
  });
  await assert.rejects(authenticator.authenticate('zzz'), /not one of the static tokens/);
  assert.deepEqual(nodeIndex.workloadsOn('n1'), [{ namespace: 'default', serviceAccount: 'web' }]);
});

test('duplicate tokens, bad names and missing fields are all reported, without the token', () => {
  const text = JSON.stringify([
    { token: 's3cret', namespace: 'default', serviceAccount: 'web' },
    { token: 's3cret', namespace: 'Bad_NS', serviceAccount: 'web' },
    { namespace: 'x', serviceAccount: 'y', extra: 1 },
  ]);
  assert.throws(
    () => parseStaticTokens(text, 'tokens.json'),
    (err: Error) => {
      assert.match(err.message, /^tokens.json: /);
      assert.match(err.message, /entry #2: namespace "Bad_NS" must consist of lowercase/);
      assert.match(err.message, /entry #2: duplicate token \(same as entry #1\)/);
      assert.match(err.message, /entry #3: unknown field\(s\) extra/);
      assert.match(err.message, /entry #3: token must be a non-empty string/);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    },
  );
  assert.throws(() => parseStaticTokens('token: a'), /expected a list/);
});
