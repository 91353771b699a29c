// The node emulator against a real 1-node cluster: volumes, env, exec probes, restart policies,
// hostNetwork and `kubectl logs` through the apiserver and the emulator's kubelet endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCluster, deleteCluster } from '../cluster.js';
import { kubeBinDir, requireKubeBinaries, PACKAGE_ROOT } from '../paths.js';

const NAME = 'lcemu';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

test('pods get volumes, env, probes, restarts, hostNetwork and kubectl logs', { timeout: 10 * 60_000 }, async () => {
  assert.equal(process.getuid?.(), 0, 'the node emulator test needs root (netns, bridges, mounts)');
  const binDir = requireKubeBinaries(kubeBinDir());
  const c = await createCluster({ name: NAME, nodes: 1 });
  const kubectl = (...args: string[]) => execFileSync(`${binDir}/kubectl`, [`--kubeconfig=${c.kubeconfig}`, ...args], { encoding: 'utf8' });
  const pod = (name: string): Any => JSON.parse(kubectl('get', 'pod', name, '-o', 'json'));
  const until = async (what: string, f: () => boolean) => {
    for (let i = 0; i < 240; i++) {
      if (f()) return;
      await sleep(500);
    }
    assert.fail(`gave up waiting for ${what}`);
  };
  const nodeDir = `${c.stateDir}/nodes/${NAME}-node1`;
  try {
    kubectl('apply', '-f', `${PACKAGE_ROOT}/testdata/features.yaml`);
    kubectl('wait', '--for=condition=Ready', 'pod/features', '--timeout=120s');
    const logs = kubectl('logs', 'features');
    assert.match(logs, /hello from a configmap/, 'ConfigMap volume mounted');
    assert.match(logs, /word=s3cret-word sa=default/, 'Secret key and fieldRef env');
    assert.match(logs, /^default$/m, 'service-account namespace file projected');
    assert.ok(existsSync(`${nodeDir}/root/var/lib/demo/marker`), 'hostPath lives in the node root');
    assert.match(kubectl('logs', 'features', '--tail=1'), /^started\n$/);

    await until('crasher to restart twice', () => pod('crasher').status.containerStatuses?.[0]?.restartCount >= 2);
    const crasher = pod('crasher');
    assert.equal(crasher.status.containerStatuses[0].lastState.terminated.exitCode, 3);
    assert.match(kubectl('logs', 'crasher', '--previous'), /^run-\d+/);

    await until('once to succeed', () => pod('once').status.phase === 'Succeeded');
    assert.equal(pod('once').status.containerStatuses[0].state.terminated.exitCode, 0);

    await until('host-net to run', () => pod('host-net').status.containerStatuses?.[0]?.state?.running !== undefined);
    const node = JSON.parse(kubectl('get', 'node', `${NAME}-node1`, '-o', 'json'));
    const nodeIP = node.status.addresses.find((a: Any) => a.type === 'InternalIP').address;
    assert.equal(pod('host-net').status.podIP, nodeIP, 'a hostNetwork pod has the node IP');
    await until('host-net logs', () => kubectl('logs', 'host-net').includes(nodeIP));

    kubectl('delete', 'pod', 'features', '--wait=true', '--timeout=60s');
    assert.throws(() => kubectl('get', 'pod', 'features'), /NotFound/);
  } finally {
    await deleteCluster(NAME);
  }
  assert.equal(existsSync(c.stateDir), false);
});
