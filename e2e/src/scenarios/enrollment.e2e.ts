// Labelling a running namespace enrolls its pods without restarting them; unlabelling reverts. A
// pod created in an enrolled namespace is redirected by the CNI plugin before it runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubeBinDir } from '@trellis/local-cluster';
import { nodesReachable, podIptablesSave } from '../harness/nodes.js';
import { suite } from '../harness/suite.js';
import { curlFrom, curlUntil, podOf } from '../harness/traffic.js';

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
      // Once the policy has reached the ztunnels (it was just applied).
      assert.notEqual(
        (
          await curlUntil(
            () => curlFrom(s.kubectl, plain, 'http://echo.e2e-mesh.svc.cluster.local/'),
            false,
          )
        ).httpCode,
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

/** A curl client in e2e-mesh on node 1, like the sample's. */
function freshClient(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'e2e-mesh', labels: { app: 'fresh-client' } },
    spec: {
      serviceAccountName: 'client',
      terminationGracePeriodSeconds: 1,
      nodeSelector: { 'e2e.trellis.dev/slot': '1' },
      containers: [
        {
          name: 'client',
          image: 'curlimages/curl:latest',
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', 'infinity'],
        },
      ],
    },
  });
}

/** Creates a pod (start) under a watch; its first status with phase Running: uid and annotation. */
async function firstRunning(
  namespace: string,
  name: string,
  start: () => void,
): Promise<{ uid: string; node: string; redirection: string }> {
  const w = spawn(
    `${kubeBinDir()}/kubectl`,
    [
      `--kubeconfig=${s.kubeconfig}`,
      'get',
      'pods',
      '-n',
      namespace,
      `--field-selector=metadata.name=${name}`,
      '--watch',
      '--request-timeout=0',
      '-o',
      `jsonpath={.status.phase}|{.metadata.uid}|{.spec.nodeName}|{.metadata.annotations.ambient\\.istio\\.io/redirection}{"\\n"}`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  try {
    const lines = createInterface({ input: w.stdout });
    const first = new Promise<{ uid: string; node: string; redirection: string } | undefined>(
      (resolve) => {
        lines.on('line', (l) => {
          const [phase, uid, node, redirection] = l.split('|');
          if (phase === 'Running')
            resolve({ uid: uid!, node: node!, redirection: redirection ?? '' });
        });
        lines.on('close', () => resolve(undefined));
      },
    );
    // The watch sees every status the pod reports, from its creation on.
    await sleep(1000);
    start();
    const r = await Promise.race([
      first,
      sleep(120_000, undefined, { ref: false }).then(() => undefined),
    ]);
    assert.ok(r, `${namespace}/${name} did not report Running within 120 s`);
    return r;
  } finally {
    w.kill();
  }
}

test(
  'a pod created in an enrolled namespace is redirected at creation: annotated, in-pod rules and mTLS from its first connection',
  needs,
  async () => {
    const name = `fresh-${process.pid}`;
    s.kubectl.run(['apply', '-f', '-'], STRICT);
    try {
      const plain = { namespace: 'e2e-plain', pod: podOf(s.kubectl, 'e2e-plain', 'client') };
      let code = 200;
      for (let i = 0; i < 30 && code === 200; i++) {
        code = curlFrom(s.kubectl, plain, 'http://echo.e2e-mesh.svc.cluster.local/').httpCode;
        if (code === 200) await sleep(500);
      }
      assert.notEqual(code, 200, 'STRICT is in force: plaintext is refused');

      const first = await firstRunning('e2e-mesh', name, () =>
        s.kubectl.run(['apply', '-f', '-'], freshClient(name)),
      );
      // Read at once: the agent's own watch would redirect a missed pod about a second later.
      const rules = nodesReachable(s.ref)
        ? podIptablesSave(s.ref, first.uid, first.node)
        : undefined;
      assert.equal(first.redirection, 'enabled', 'annotated in its first Running status');
      if (rules !== undefined)
        assert.match(rules, /--to-ports 15001/, 'in-pod redirection rules in place when Running');
      const r = curlFrom(
        s.kubectl,
        { namespace: 'e2e-mesh', pod: name },
        'http://echo.e2e-mesh.svc.cluster.local/',
      );
      assert.equal(r.httpCode, 200, `first connection admitted under STRICT: ${r.body}`);
    } finally {
      s.kubectl.run([
        'delete',
        'pod',
        '-n',
        'e2e-mesh',
        name,
        '--ignore-not-found',
        '--wait=false',
      ]);
      s.kubectl.run(['delete', '--ignore-not-found', '-f', '-'], STRICT);
    }
  },
);
