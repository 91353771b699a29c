import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '@trellis/core';
import { NODE_TOKEN_SECONDS, PluginToken, serviceAccountOf } from './plugin-token.js';

const jwt = (claims: object) =>
  `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const podToken = jwt({ sub: 'system:serviceaccount:trellis-system:trellis-cni' });
const logger = createLogger({ name: 'test', level: 'error' }).scope('install');

test('the service account is read from the token subject', () => {
  assert.deepEqual(serviceAccountOf(podToken), {
    namespace: 'trellis-system',
    name: 'trellis-cni',
  });
  assert.equal(serviceAccountOf(jwt({ sub: 'system:node:n1' })), undefined);
  assert.equal(serviceAccountOf('not-a-jwt'), undefined);
  assert.equal(serviceAccountOf(undefined), undefined);
});

test('the plugin gets a node-bound token of the agent account, else the pod token', async () => {
  const asked: unknown[] = [];
  const granted = new PluginToken(
    {
      ownToken: () => podToken,
      nodeBoundToken: async (account, node, seconds) => {
        asked.push({ account, node, seconds });
        return 'node-bound';
      },
    },
    'node1',
    logger,
  );
  await granted.start();
  granted.stop();
  assert.equal(granted.token, 'node-bound');
  assert.deepEqual(asked, [
    {
      account: { namespace: 'trellis-system', name: 'trellis-cni' },
      node: 'node1',
      seconds: NODE_TOKEN_SECONDS,
    },
  ]);

  const refused = new PluginToken(
    {
      ownToken: () => podToken,
      nodeBoundToken: () => Promise.reject(new Error('HTTP 403 forbidden')),
    },
    'node1',
    logger,
  );
  await refused.start();
  refused.stop();
  assert.equal(refused.token, podToken);
});
