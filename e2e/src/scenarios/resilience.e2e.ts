// Resilience: a restarted ztunnel takes new connections again within 5 s and leaves connections
// through other nodes untouched; a rolling update of the ztunnel DaemonSet loses no request (the
// new ztunnel serves each pod beside the old one, which then drains), nor one of the CNI agent
// (the pods keep their redirection while no agent runs; the new one adopts them and hands them
// to the ztunnel again, which must keep them); with the control plane (and its CA) down, traffic
// keeps flowing on the last configuration and certificates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubeBinDir } from '@trellis/local-cluster';
import { nodesReachable, podIptablesSave } from '../harness/nodes.js';
import { suite } from '../harness/suite.js';
import { rolloutLosesNoRequest } from '../harness/rollout.js';
import { curlFrom, curlFromAsync, podOf } from '../harness/traffic.js';
import { ztunnelOnNode } from '../harness/ztunnel-log.js';

const s = suite();
const needs = s.needs('exec', 'cni', 'ztunnel');
const ECHO_V1 = 'http://echo-v1.e2e-mesh.svc.cluster.local/';
const ECHO_V2 = 'http://echo-v2.e2e-mesh.svc.cluster.local/';
const REDIRECTION = 'ambient.istio.io/redirection';
const client = () => ({ namespace: 'e2e-mesh', pod: podOf(s.kubectl, 'e2e-mesh', 'client') });

function scaleControlPlane(replicas: number): void {
  s.kubectl.run([
    'scale',
    '-n',
    'trellis-system',
    'deployment/trellis-control-plane',
    `--replicas=${replicas}`,
  ]);
}

test(
  'a restarted ztunnel takes new connections within 5 s; a connection through other nodes survives',
  needs,
  async () => {
    const echoV1 = s.kubectl.getJson('pods', '-n', 'e2e-mesh', '-l', 'app=echo,version=v1')
      .items[0];
    const echoV2 = s.kubectl.getJson('pods', '-n', 'e2e-mesh', '-l', 'app=echo,version=v2')
      .items[0];
    // The long-lived connection stays on node 2 (echo-v2 calls its own Service over one keep-alive
    // session) while node 1's ztunnel restarts.
    const session = spawn(
      `${kubeBinDir()}/kubectl`,
      [
        '--kubeconfig',
        s.kubeconfig,
        'exec',
        '-i',
        '-n',
        'e2e-mesh',
        echoV2.metadata.name,
        '--',
        'socat',
        'STDIO',
        'TCP:echo-v2.e2e-mesh.svc.cluster.local:80',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let received = '';
    let errors = '';
    session.stdout.on('data', (c: Buffer) => (received += c.toString()));
    session.stderr.on('data', (c: Buffer) => (errors += c.toString()));
    session.stdin.on('error', () => undefined); // a session that ended: reported by exchange
    /** One request on the session; resolves with whether its answer came within 5 s. */
    const exchange = async (path: string): Promise<boolean> => {
      if (session.exitCode !== null || session.signalCode !== null) return false;
      session.stdin.write(
        `GET /${path} HTTP/1.1\r\nHost: echo-v2\r\nConnection: keep-alive\r\n\r\n`,
      );
      for (let i = 0; i < 20 && !received.includes(`/${path}`); i++) await sleep(250);
      return received.includes(`/${path}`);
    };
    try {
      assert.ok(
        await exchange('before'),
        `the long-lived session works before the restart (${errors.trim()})`,
      );

      // The echo server closes a keep-alive connection idle for 5 s (Node's default), so the
      // session carries a request every second while node 1's ztunnel restarts; each must be answered.
      let ticking = true;
      let lost: string | undefined;
      const ticker = (async () => {
        for (let n = 0; ticking && !lost; n++) {
          if (!(await exchange(`tick-${n}`))) lost = `tick-${n}`;
          await sleep(1000);
        }
      })();

      const node1 = echoV1.spec.nodeName;
      const old = ztunnelOnNode(s.kubectl, node1);
      const deleted = Date.now();
      s.kubectl.run(['delete', 'pod', '-n', 'trellis-system', old, '--wait=false']);
      let recovered: number | undefined;
      while (Date.now() - deleted < 60_000) {
        if (
          (await curlFromAsync(s.kubeconfig, client(), ECHO_V1)).httpCode === 200 &&
          Date.now() - deleted > 1000
        ) {
          recovered = Date.now();
          break;
        }
        await sleep(250);
      }
      assert.ok(recovered, 'new connections through node 1 work again');
      // When the new ztunnel became Ready (the condition with status True: read before that, its
      // lastTransitionTime is when the pod was created not-Ready). Whole seconds: rounded down.
      let readyAt: number | undefined;
      for (let i = 0; i < 120 && readyAt === undefined; i++) {
        const fresh = s.kubectl
          .getJson('pods', '-n', 'trellis-system', '-l', 'app=ztunnel')
          .items.find(
            (p: { spec: { nodeName: string }; metadata: { name: string } }) =>
              p.spec.nodeName === node1 && p.metadata.name !== old,
          );
        const cond = fresh?.status?.conditions?.find(
          (c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True',
        );
        if (cond) readyAt = Date.parse(cond.lastTransitionTime);
        else await sleep(500);
      }
      assert.ok(readyAt !== undefined, 'the new ztunnel on node 1 became Ready within 60 s');
      assert.ok(
        recovered! - readyAt <= 5000,
        `new connections resumed ${(recovered! - readyAt) / 1000}s after the new ztunnel was Ready (${(recovered! - deleted) / 1000}s after the old one was deleted)`,
      );
      console.log(
        `# new connections through node 1 resumed ${(recovered! - deleted) / 1000}s after the ztunnel was deleted, ${(recovered! - readyAt) / 1000}s from its replacement's Ready`,
      );

      ticking = false;
      await ticker;
      assert.equal(
        lost,
        undefined,
        `the session on node 2 went unanswered during the restart on node 1 (session exit ${session.exitCode ?? session.signalCode}: ${errors.trim()})`,
      );
      assert.ok(
        await exchange('after'),
        `the session on node 2 was untouched by the restart on node 1 (session exit ${session.exitCode ?? session.signalCode}: ${errors.trim()})`,
      );
    } finally {
      session.kill();
    }
  },
);

test(
  'a rolling update of the ztunnel DaemonSet loses no request: name lookups and new connections go on',
  needs,
  async () => {
    const n = await rolloutLosesNoRequest({
      kubeconfig: s.kubeconfig,
      kubectl: s.kubectl,
      resource: 'daemonset/ztunnel',
      namespace: 'trellis-system',
      selector: 'app=ztunnel',
      from: client(),
      urls: [ECHO_V1, ECHO_V2],
      minRequests: 100,
    });
    console.log(`# ${n} requests during the ztunnel rolling update, all answered 200`);
  },
);

test(
  'a rolling update of the CNI agent DaemonSet loses no request: the new agents adopt the enrolled pods',
  needs,
  async () => {
    const from = client();
    const pod = () => s.kubectl.getJson('pod', '-n', from.namespace, from.pod);
    const { uid } = pod().metadata;
    const node = pod().spec.nodeName;
    // The pod's in-pod rules (the counters aside): adopted as they are, not removed or doubled.
    const rules = () =>
      podIptablesSave(s.ref, uid, node)
        .split('\n')
        .filter((l) => l.startsWith('-A'))
        .sort();
    const before = nodesReachable(s.ref) ? rules() : undefined;
    const n = await rolloutLosesNoRequest({
      kubeconfig: s.kubeconfig,
      kubectl: s.kubectl,
      resource: 'daemonset/trellis-cni-node',
      namespace: 'trellis-system',
      selector: 'app=trellis-cni-node',
      from: client(),
      urls: [ECHO_V1, ECHO_V2],
      minRequests: 50,
    });
    assert.equal(pod().metadata.annotations?.[REDIRECTION], 'enabled', 'still enrolled');
    if (before) {
      assert.ok(
        before.some((l) => l.includes('--to-ports 15001')),
        before.join('\n'),
      );
      assert.deepEqual(rules(), before, "the pod's in-pod rules are as they were");
    }
    console.log(`# ${n} requests during the CNI agent rolling update, all answered 200`);
  },
);

test(
  'with the control plane and CA down, traffic keeps flowing on the last config and certificates',
  needs,
  async () => {
    scaleControlPlane(0);
    try {
      s.kubectl.run([
        'wait',
        '-n',
        'trellis-system',
        '--for=delete',
        'pod',
        '-l',
        'app=trellis-control-plane',
        '--timeout=60s',
      ]);
      for (const url of [ECHO_V1, ECHO_V2])
        assert.equal(curlFrom(s.kubectl, client(), url).httpCode, 200, url);
      await sleep(5000);
      for (const url of [ECHO_V1, ECHO_V2])
        assert.equal(curlFrom(s.kubectl, client(), url).httpCode, 200, `${url} 5 s later`);
    } finally {
      scaleControlPlane(1);
      s.kubectl.run([
        'rollout',
        'status',
        '-n',
        'trellis-system',
        'deployment/trellis-control-plane',
        '--timeout=120s',
      ]);
    }
  },
);
