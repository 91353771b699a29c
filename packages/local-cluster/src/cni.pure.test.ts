import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultConflist,
  parseConflist,
  pickConfFile,
  pluginEnv,
  pluginStdin,
  podIPFromResult,
  toConflist,
} from './cni.pure.js';

const ref = {
  containerID: 'uid-1',
  netnsPath: '/run/netns/p',
  ifName: 'eth0',
  podName: 'web',
  podNamespace: 'default',
  podUID: 'uid-1',
};

test('the primary network is bridge + host-local on the node pod CIDR with a per-node IPAM dir', () => {
  const l = defaultConflist('10.240.1.0/24', '/n/ipam');
  assert.equal(l.plugins[0]!.type, 'bridge');
  assert.deepEqual((l.plugins[0]!.ipam as { ranges: unknown }).ranges, [
    [{ subnet: '10.240.1.0/24' }],
  ]);
  assert.equal((l.plugins[0]!.ipam as { dataDir: string }).dataDir, '/n/ipam');
});

test('each chained plugin gets the list name and version and the previous result', () => {
  const list = {
    cniVersion: '1.0.0',
    name: 'net',
    plugins: [{ type: 'bridge' }, { type: 'trellis-cni', x: 1 }],
  };
  assert.deepEqual(JSON.parse(pluginStdin(list, 0, undefined)), {
    type: 'bridge',
    cniVersion: '1.0.0',
    name: 'net',
  });
  assert.deepEqual(JSON.parse(pluginStdin(list, 1, { ips: [] })), {
    type: 'trellis-cni',
    x: 1,
    cniVersion: '1.0.0',
    name: 'net',
    prevResult: { ips: [] },
  });
});

test('plugin environment carries the CNI spec variables and Kubernetes pod args', () => {
  const env = pluginEnv('ADD', ref, ['/a', '/usr/lib/cni']);
  assert.equal(env.CNI_COMMAND, 'ADD');
  assert.equal(env.CNI_NETNS, '/run/netns/p');
  assert.equal(env.CNI_PATH, '/a:/usr/lib/cni');
  assert.equal(
    env.CNI_ARGS,
    'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=uid-1;K8S_POD_UID=uid-1',
  );
});

test('config file choice, .conf promotion and validation', () => {
  assert.equal(pickConfFile(['README', '20-b.conflist', '10-a.conf']), '10-a.conf');
  assert.equal(pickConfFile(['x.txt']), undefined);
  assert.equal(
    toConflist('{"cniVersion":"0.4.0","name":"n","type":"bridge"}', 'a.conf').plugins[0]!.type,
    'bridge',
  );
  assert.throws(
    () => parseConflist('{"name":"n","cniVersion":"1.0.0","plugins":[]}', 'f'),
    /non-empty "plugins"/,
  );
  assert.throws(() => parseConflist('nope', 'f'), /f: not JSON/);
});

test('pod IP is the IPv4 address on the sandbox interface', () => {
  const result = {
    interfaces: [{ name: 'cni0' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/run/netns/p' }],
    ips: [{ address: '10.240.1.5/24', interface: 2 }],
  };
  assert.equal(podIPFromResult(result, 'eth0'), '10.240.1.5');
  assert.equal(podIPFromResult({}, 'eth0'), undefined);
});
