// The node emulator against a real 1-node cluster: volumes, env, exec probes, restart policies,
// hostNetwork and `kubectl logs` through the apiserver and the emulator's kubelet endpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { eventually, rootOnly } from '@trellis/core/test-support';
import { createCluster, deleteCluster } from '../cluster.js';
import { kubeBinDir, requireKubeBinaries, PACKAGE_ROOT } from '../paths.js';
import type { Pod } from '../pod-spec.js';

// Unique per test process, so concurrent runs on one host do not collide.
const NAME = `lce${process.pid}`;

test(
  'pods get volumes, env, probes, restarts, hostNetwork and kubectl logs',
  { ...rootOnly('netns, bridges, mounts'), timeout: 10 * 60_000 },
  async () => {
    const binDir = requireKubeBinaries(kubeBinDir());
    const c = await createCluster({ name: NAME, nodes: 1 });
    const kubectl = (...args: string[]) =>
      execFileSync(`${binDir}/kubectl`, [`--kubeconfig=${c.kubeconfig}`, ...args], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    const pod = (name: string): Pod => JSON.parse(kubectl('get', 'pod', name, '-o', 'json'));
    const status = (name: string) => pod(name).status ?? {};
    const container = (name: string) => status(name).containerStatuses?.[0];
    const running = (name: string) => 'running' in (container(name)?.state ?? {});
    const until = (what: string, f: () => boolean) =>
      eventually(what, f, {
        timeoutMs: 120_000,
        intervalMs: 500,
        detail: () => {
          const log = `${c.stateDir}/logs/node-${NAME}-node1.log`;
          const tail = existsSync(log)
            ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n')
            : '';
          return `pods:\n${kubectl('get', 'pods', '-o', 'wide')}\nnode emulator log:\n${tail}`;
        },
      });
    const nodeDir = `${c.stateDir}/nodes/${NAME}-node1`;
    try {
      kubectl('apply', '-f', `${PACKAGE_ROOT}/testdata/features.yaml`);
      kubectl('wait', '--for=condition=Ready', 'pod/features', '--timeout=120s');
      const logs = kubectl('logs', 'features');
      assert.match(logs, /hello from a configmap/, 'ConfigMap volume mounted');
      assert.match(logs, /word=s3cret-word sa=default/, 'Secret key and fieldRef env');
      assert.match(logs, /^default$/m, 'service-account namespace file projected');
      assert.ok(
        existsSync(`${nodeDir}/root/var/lib/demo/marker`),
        'hostPath lives in the node root',
      );
      assert.match(kubectl('logs', 'features', '--tail=1'), /^started\n$/);

      await until('crasher to restart twice', () => (container('crasher')?.restartCount ?? 0) >= 2);
      assert.equal(container('crasher')?.lastState.terminated?.exitCode, 3);
      assert.match(kubectl('logs', 'crasher', '--previous'), /^run-\d+/);

      await until('once to succeed', () => status('once').phase === 'Succeeded');
      const once = container('once')?.state;
      assert.equal(once && 'terminated' in once ? once.terminated.exitCode : undefined, 0);

      await until('host-net to run', () => running('host-net'));
      const node = JSON.parse(kubectl('get', 'node', `${NAME}-node1`, '-o', 'json'));
      const nodeIP = (node.status.addresses as Array<{ type: string; address: string }>).find(
        (a) => a.type === 'InternalIP',
      )?.address;
      assert.equal(status('host-net').podIP, nodeIP, 'a hostNetwork pod has the node IP');
      await until('host-net logs', () => kubectl('logs', 'host-net').includes(nodeIP ?? '?'));

      // A container that ignores SIGTERM is killed after its grace period, with the processes it started.
      await until('stubborn to run', () => running('stubborn'));
      kubectl('delete', 'pod', 'stubborn', '--wait=true', '--timeout=60s');
      assert.deepEqual(
        processesMatching('sleep 3601'),
        [],
        'no process of the deleted pod is left',
      );

      kubectl('delete', 'pod', 'features', '--wait=true', '--timeout=60s');
      assert.throws(() => kubectl('get', 'pod', 'features'), /NotFound/);

      // A plugin chained into the node's conflist (as a CNI installer would) gets prevResult and the
      // pod's CNI_ARGS; while it refuses ADD, the pod waits and the sandbox is retried.
      const chainDir = `${nodeDir}/root/opt/cni/bin`;
      mkdirSync(chainDir, { recursive: true });
      writeFileSync(`${chainDir}/test-chain`, chainPlugin(process.execPath, nodeDir), {
        mode: 0o755,
      });
      const confFile = `${nodeDir}/root/etc/cni/net.d/10-trellis.conflist`;
      const conf = JSON.parse(readFileSync(confFile, 'utf8'));
      conf.plugins.push({ type: 'test-chain' });
      writeFileSync(confFile, JSON.stringify(conf));
      kubectl(
        'run',
        'chained',
        '--image=busybox',
        '--restart=Never',
        '--command',
        '--',
        'sleep',
        '3602',
      );
      await until('chained to report the refusing plugin', () =>
        (status('chained').message ?? '').includes('agent not ready'),
      );
      assert.equal(status('chained').podIP, undefined);
      writeFileSync(`${nodeDir}/chain-gate`, '');
      await until('chained to run', () => running('chained'));
      const calls = readFileSync(`${nodeDir}/chain.log`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const add = calls.findLast((x: { command: string }) => x.command === 'ADD');
      assert.match(add.args, /K8S_POD_NAMESPACE=default;K8S_POD_NAME=chained;/);
      assert.equal(
        add.prevIP,
        `${status('chained').podIP}/24`,
        'the chained plugin saw the bridge result',
      );
      kubectl('delete', 'pod', 'chained', '--wait=true', '--timeout=60s');
      const after = readFileSync(`${nodeDir}/chain.log`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(after.at(-1).command, 'DEL');
      assert.deepEqual(processesMatching('sleep 3602'), []);
    } finally {
      await deleteCluster(NAME);
    }
    assert.equal(existsSync(c.stateDir), false);
  },
);

function processesMatching(text: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(text);
      } catch {
        return false;
      }
    });
}

/** A CNI plugin (a Node.js script) that logs each call, refuses ADD until <nodeDir>/chain-gate exists, and passes prevResult on. */
function chainPlugin(node: string, nodeDir: string): string {
  return `#!${node}
const fs = require('node:fs');
let input = '';
process.stdin.on('data', (d) => (input += d)).on('end', () => {
  const conf = JSON.parse(input);
  const prevIP = conf.prevResult && conf.prevResult.ips && conf.prevResult.ips[0] && conf.prevResult.ips[0].address;
  fs.appendFileSync('${nodeDir}/chain.log', JSON.stringify({ command: process.env.CNI_COMMAND, args: process.env.CNI_ARGS, prevIP }) + '\\n');
  if (process.env.CNI_COMMAND === 'ADD' && !fs.existsSync('${nodeDir}/chain-gate')) {
    process.stdout.write(JSON.stringify({ cniVersion: '1.0.0', code: 11, msg: 'agent not ready' }));
    process.exit(1);
  }
  if (process.env.CNI_COMMAND === 'ADD') process.stdout.write(JSON.stringify(conf.prevResult));
});
`;
}
