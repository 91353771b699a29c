// Labelling a running namespace enrolls its pods without restarting them; unlabelling reverts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from '../harness/suite.js';
import { curlFrom, podOf } from '../harness/traffic.js';

const s = suite();
const needs = s.needs('exec', 'cni', 'ztunnel');
const REDIRECTION = 'ambient.istio.io/redirection';
const STRICT = `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: strict, namespace: e2e-mesh}\nspec: {mtls: {mode: STRICT}}\n`;

function clientPod() {
  return s.kubectl.getJson('pods', '-n', 'e2e-plain', '-l', 'app=client').items[0];
}

async function waitAnnotation(present: boolean): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if ((clientPod().metadata.annotations?.[REDIRECTION] === 'enabled') === present) return;
    await sleep(500);
  }
  assert.fail(
    `the ${REDIRECTION} annotation did not ${present ? 'appear' : 'go away'} within 30 s`,
  );
}

test(
  'labelling a running namespace enrolls its pods without restarts; unlabelling reverts',
  needs,
  async () => {
    const before = clientPod();
    const restarts = (p: typeof before) =>
      p.status.containerStatuses.reduce(
        (n: number, c: { restartCount: number }) => n + c.restartCount,
        0,
      );
    s.kubectl.run(['apply', '-f', '-'], STRICT);
    try {
      const plain = { namespace: 'e2e-plain', pod: podOf(s.kubectl, 'e2e-plain', 'client') };
      assert.notEqual(
        curlFrom(s.kubectl, plain, 'http://echo.e2e-mesh.svc.cluster.local/').httpCode,
        200,
        'STRICT refuses it while unenrolled',
      );

      s.kubectl.run(['label', 'namespace', 'e2e-plain', 'istio.io/dataplane-mode=ambient']);
      await waitAnnotation(true);
      const enrolled = clientPod();
      assert.equal(enrolled.metadata.uid, before.metadata.uid, 'the same pod, not a new one');
      assert.equal(restarts(enrolled), restarts(before), 'no container restarted');
      let code = 0;
      for (let i = 0; i < 30 && code !== 200; i++) {
        code = curlFrom(s.kubectl, plain, 'http://echo.e2e-mesh.svc.cluster.local/').httpCode;
        if (code !== 200) await sleep(500);
      }
      assert.equal(code, 200, 'once enrolled, its calls are mTLS and STRICT admits them');

      s.kubectl.run(['label', 'namespace', 'e2e-plain', 'istio.io/dataplane-mode-']);
      await waitAnnotation(false);
      assert.equal(restarts(clientPod()), restarts(before));
      assert.notEqual(
        curlFrom(s.kubectl, plain, 'http://echo.e2e-mesh.svc.cluster.local/').httpCode,
        200,
        'plaintext again: refused',
      );
    } finally {
      s.kubectl.run(['label', 'namespace', 'e2e-plain', 'istio.io/dataplane-mode-']);
      s.kubectl.run(['delete', '--ignore-not-found', '-f', '-'], STRICT);
    }
  },
);
