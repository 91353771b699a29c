import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@trellis/core';
import { loadCaConfig } from './config.js';

test("the trusted node proxy defaults to ztunnel in the CA's namespace, ztunnel's default too", () => {
  assert.deepEqual(loadCaConfig({ argv: [], env: {} }).trustedNodeProxies, [
    { namespace: 'istio-system', serviceAccount: 'ztunnel' },
  ]);
  assert.deepEqual(loadCaConfig({ argv: [], env: { POD_NAMESPACE: 'mesh' } }).trustedNodeProxies, [
    { namespace: 'mesh', serviceAccount: 'ztunnel' },
  ]);
});

test("CA_TRUSTED_NODE_ACCOUNTS (Istio's variable) takes a list; a bad entry is named", () => {
  const c = loadCaConfig({
    argv: [],
    env: { CA_TRUSTED_NODE_ACCOUNTS: 'istio-system/ztunnel, kube-system/node-proxy' },
  });
  assert.deepEqual(c.trustedNodeProxies, [
    { namespace: 'istio-system', serviceAccount: 'ztunnel' },
    { namespace: 'kube-system', serviceAccount: 'node-proxy' },
  ]);
  assert.throws(
    () => loadCaConfig({ argv: ['--trusted-node-proxies', 'ztunnel'], env: {} }),
    (err: ConfigError) => err.problems.some((p) => p.includes('--trusted-node-proxies')),
  );
});
