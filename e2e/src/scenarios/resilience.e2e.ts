// Resilience: a restarted ztunnel takes new connections again within 5 s and leaves connections
// through other nodes untouched; with the control plane (and its CA) down, traffic keeps flowing
// on the last configuration and certificates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from '../harness/suite.js';
import { curlFrom, podOf } from '../harness/traffic.js';

const s = suite();
const needs = s.needs('exec', 'cni', 'ztunnel');
const ECHO_V1 = 'http://echo-v1.e2e-mesh.svc.cluster.local/';
const ECHO_V2 = 'http://echo-v2.e2e-mesh.svc.cluster.local/';
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

function ztunnelOn(node: string): string {
  return s.kubectl
    .getJson('pods', '-n', 'trellis-system', '-l', 'app=ztunnel')
    .items.find(
      (p: { spec: { nodeName: string }; metadata: { deletionTimestamp?: string } }) =>
        p.spec.nodeName === node && !p.metadata.deletionTimestamp,
    ).metadata.name;
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
      'kubectl',
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
    session.stdout.on('data', (c: Buffer) => (received += c.toString()));
    /** One request on the session; resolves with whether its answer came within 5 s. */
    const exchange = async (path: string): Promise<boolean> => {
      session.stdin.write(
        `GET /${path} HTTP/1.1\r\nHost: echo-v2\r\nConnection: keep-alive\r\n\r\n`,
      );
      for (let i = 0; i < 20 && !received.includes(`/${path}`); i++) await sleep(250);
      return received.includes(`/${path}`);
    };
    try {
      assert.ok(await exchange('before'), 'the long-lived session works before the restart');

      const node1 = echoV1.spec.nodeName;
      const old = ztunnelOn(node1);
      const deleted = Date.now();
      s.kubectl.run(['delete', 'pod', '-n', 'trellis-system', old, '--wait=false']);
      let recovered: number | undefined;
      while (Date.now() - deleted < 60_000) {
        if (
          curlFrom(s.kubectl, client(), ECHO_V1).httpCode === 200 &&
          Date.now() - deleted > 1000
        ) {
          recovered = Date.now();
          break;
        }
        await sleep(250);
      }
      assert.ok(recovered, 'new connections through node 1 work again');
      const ready = s.kubectl
        .getJson('pods', '-n', 'trellis-system', '-l', 'app=ztunnel')
        .items.find(
          (p: { spec: { nodeName: string }; metadata: { name: string } }) =>
            p.spec.nodeName === node1 && p.metadata.name !== old,
        );
      const readyAt = Date.parse(
        ready.status.conditions.find((c: { type: string }) => c.type === 'Ready')
          .lastTransitionTime,
      );
      assert.ok(
        recovered! - Math.max(readyAt, deleted) <= 5000,
        `new connections resumed ${(recovered! - readyAt) / 1000}s after the new ztunnel was Ready`,
      );

      assert.ok(
        await exchange('after'),
        'the session on node 2 was untouched by the restart on node 1',
      );
    } finally {
      session.kill();
    }
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
