import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultKindLbRange,
  kindLbUnsupported,
  kindNetworkFacts,
  kubeconfigCredentials,
} from './kind-lb.pure.js';

const inspect = (o: object) =>
  JSON.stringify([{ Id: '18038838f1160123456789', Driver: 'bridge', ...o }]);

test("the kind network's bridge and IPv4 subnet come from docker network inspect", () => {
  const dual = {
    IPAM: { Config: [{ Subnet: 'fc00:f853:ccd:e793::/64' }, { Subnet: '172.18.0.0/16' }] },
  };
  assert.deepEqual(kindNetworkFacts(inspect(dual), 'kind-a'), {
    bridge: 'br-18038838f116',
    subnet: '172.18.0.0/16',
  });
  const named = { ...dual, Options: { 'com.docker.network.bridge.name': 'kindbr0' } };
  assert.equal(kindNetworkFacts(inspect(named), 'kind-a').bridge, 'kindbr0');
  assert.throws(
    () => kindNetworkFacts(inspect({ IPAM: { Config: [{ Subnet: 'fc00::/64' }] } }), 'kind-a'),
    /docker network kind-a has no IPv4 subnet/,
  );
  assert.throws(
    () => kindNetworkFacts(inspect({ Driver: 'macvlan' }), 'kind-a'),
    /uses the macvlan driver, not bridge/,
  );
  assert.throws(() => kindNetworkFacts('[]', 'kind-a'), /no such network/);
});

test('the default range is the top quarter of the subnet, at most a /24', () => {
  assert.equal(defaultKindLbRange('172.18.0.0/16'), '172.18.255.0/24');
  assert.equal(defaultKindLbRange('192.168.16.0/20'), '192.168.31.0/24');
  assert.equal(defaultKindLbRange('10.5.7.0/24'), '10.5.7.192/26');
  assert.equal(defaultKindLbRange('10.5.7.0/27'), '10.5.7.24/29');
  assert.throws(
    () => defaultKindLbRange('10.5.7.0/28'),
    /too small to spare addresses.*--lb-range/,
  );
});

test("the controller's credentials: server and CA of the cluster, certificate and key of the user", () => {
  const b = (s: string) => Buffer.from(s).toString('base64');
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${b('CA PEM')}`,
    '    server: https://127.0.0.1:41234',
    '  name: kind-a',
    'users:',
    '- name: trellis-lb-controller',
    '  user:',
    `    client-certificate-data: ${b('CERT PEM')}`,
    `    client-key-data: ${b('KEY PEM')}`,
    '',
  ].join('\n');
  assert.deepEqual(kubeconfigCredentials(text), {
    server: 'https://127.0.0.1:41234',
    caPem: 'CA PEM',
    certPem: 'CERT PEM',
    keyPem: 'KEY PEM',
  });
  assert.throws(
    () => kubeconfigCredentials(text.replace(/ {4}client-key-data.*\n/, '')),
    /the kubeconfig has no client-key-data/,
  );
});

test('hosts that cannot route to the nodes say why and point to cloud-provider-kind', () => {
  const ok = { platform: 'linux', uid: 0, bridgeOnHost: true, bridge: 'br-1' };
  assert.equal(kindLbUnsupported(ok), undefined);
  assert.match(
    kindLbUnsupported({ ...ok, platform: 'darwin' })!,
    /not on this host.*cloud-provider-kind/,
  );
  assert.match(kindLbUnsupported({ ...ok, uid: 1000 })!, /needs root/);
  assert.match(
    kindLbUnsupported({ ...ok, bridgeOnHost: false })!,
    /bridge br-1 is not in this host's network namespace/,
  );
});
