import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLayout, podNetnsName, validateClusterName } from './layout.pure.js';

test('cluster layout names every host object after the cluster and its slot', () => {
  const l = clusterLayout('dev', 2, 2, '/var/lib/trellis/clusters');
  assert.equal(l.stateDir, '/var/lib/trellis/clusters/dev');
  assert.equal(l.bridge, 'tl-dev');
  assert.equal(l.hostIP, '172.28.2.1');
  assert.equal(l.apiServerURL, 'https://172.28.2.1:6443');
  assert.equal(l.clusterCIDR, '10.242.0.0/16');
  assert.equal(l.kubernetesServiceIP, '10.98.0.1');
  assert.deepEqual(
    l.nodes.map((n) => [n.name, n.netns, n.ip, n.hostVeth]),
    [
      ['dev-node1', 'trellis.dev.node1', '172.28.2.11', 'tlh2n1'],
      ['dev-node2', 'trellis.dev.node2', '172.28.2.12', 'tlh2n2'],
    ],
  );
  assert.equal(podNetnsName('dev', 'abc'), 'trellis.dev.pod.abc');
});

test('two clusters never share a netns prefix, because names cannot contain dots', () => {
  assert.ok(
    !clusterLayout('a-b', 1, 1, '/x').nodes[0]!.netns.startsWith(
      clusterLayout('a', 0, 1, '/x').netnsPrefix,
    ),
  );
});

test('bad names, slots and node counts are rejected with the reason', () => {
  assert.match(validateClusterName('Dev')!, /invalid cluster name "Dev"/);
  assert.match(validateClusterName('a.b')!, /invalid cluster name/);
  assert.match(validateClusterName('abcdefghijklm')!, /1-12 characters/);
  assert.equal(validateClusterName('dev-1'), undefined);
  assert.throws(() => clusterLayout('dev', 16, 1, '/x'), /slot 16 out of range/);
  assert.throws(() => clusterLayout('dev', 0, 0, '/x'), /node count 0 out of range/);
});
