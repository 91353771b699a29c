// L4 policy: AuthorizationPolicy DENY by principal blocks, an ALLOW list admits only its
// principals; PeerAuthentication STRICT refuses plaintext from the unenrolled namespace and
// PERMISSIVE admits it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from '../harness/suite.js';
import { curlFrom, podOf, type CurlResult } from '../harness/traffic.js';

const s = suite();
const needs = s.needs('exec', 'cni', 'ztunnel');
const ECHO = 'http://echo.e2e-mesh.svc.cluster.local/';
const mesh = () => ({ namespace: 'e2e-mesh', pod: podOf(s.kubectl, 'e2e-mesh', 'client') });
const plain = () => ({ namespace: 'e2e-plain', pod: podOf(s.kubectl, 'e2e-plain', 'client') });

/** Applies a policy, waits until `from` sees the expected outcome (config propagates), removes it after. */
async function withPolicy(yaml: string, run: () => Promise<void>): Promise<void> {
  s.kubectl.run(['apply', '-f', '-'], yaml);
  try {
    await run();
  } finally {
    s.kubectl.run(['delete', '--ignore-not-found', '-f', '-'], yaml);
  }
}

/** Retries until the call's outcome is `allowed` (true: HTTP 200) or 15 s pass; returns the last result. */
async function eventually(call: () => CurlResult, allowed: boolean): Promise<CurlResult> {
  let r = call();
  for (let i = 0; i < 30 && (r.httpCode === 200) !== allowed; i++) {
    await sleep(500);
    r = call();
  }
  return r;
}

const policy = (name: string, spec: string) =>
  `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: e2e-mesh}\nspec:\n${spec}`;

test('before any policy, the enrolled client reaches echo', needs, async () => {
  assert.equal((await eventually(() => curlFrom(s.kubectl, mesh(), ECHO), true)).httpCode, 200);
});

test('DENY by principal blocks that principal', needs, async () => {
  await withPolicy(
    policy(
      'deny-client',
      '  selector: {matchLabels: {app: echo}}\n  action: DENY\n  rules: [{from: [{source: {principals: ["cluster.local/ns/e2e-mesh/sa/client"]}}]}]\n',
    ),
    async () => {
      const r = await eventually(() => curlFrom(s.kubectl, mesh(), ECHO), false);
      assert.notEqual(r.httpCode, 200, `denied: curl exit ${r.exit}`);
    },
  );
  assert.equal(
    (await eventually(() => curlFrom(s.kubectl, mesh(), ECHO), true)).httpCode,
    200,
    'allowed again once removed',
  );
});

test('an ALLOW list admits only its principals', needs, async () => {
  await withPolicy(
    policy(
      'allow-others',
      '  selector: {matchLabels: {app: echo}}\n  action: ALLOW\n  rules: [{from: [{source: {principals: ["cluster.local/ns/e2e-mesh/sa/someone-else"]}}]}]\n',
    ),
    async () => {
      assert.notEqual(
        (await eventually(() => curlFrom(s.kubectl, mesh(), ECHO), false)).httpCode,
        200,
      );
    },
  );
  await withPolicy(
    policy(
      'allow-client',
      '  selector: {matchLabels: {app: echo}}\n  action: ALLOW\n  rules: [{from: [{source: {principals: ["cluster.local/ns/e2e-mesh/sa/client"]}}]}]\n',
    ),
    async () => {
      assert.equal((await eventually(() => curlFrom(s.kubectl, mesh(), ECHO), true)).httpCode, 200);
    },
  );
});

test(
  'PeerAuthentication STRICT refuses plaintext from the unenrolled namespace; PERMISSIVE admits it',
  needs,
  async () => {
    const pa = (mode: string) =>
      `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: mtls, namespace: e2e-mesh}\nspec: {mtls: {mode: ${mode}}}\n`;
    await withPolicy(pa('STRICT'), async () => {
      assert.notEqual(
        (await eventually(() => curlFrom(s.kubectl, plain(), ECHO), false)).httpCode,
        200,
        'plaintext refused',
      );
      assert.equal(
        (await eventually(() => curlFrom(s.kubectl, mesh(), ECHO), true)).httpCode,
        200,
        'mTLS still admitted',
      );
    });
    await withPolicy(pa('PERMISSIVE'), async () => {
      assert.equal(
        (await eventually(() => curlFrom(s.kubectl, plain(), ECHO), true)).httpCode,
        200,
        'plaintext admitted',
      );
    });
  },
);
