import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLayout } from './layout.pure.js';
import {
  apiServerSpec,
  controllerManagerSpec,
  etcdSpec,
  kubeProxySpec,
  schedulerSpec,
} from './kube-flags.pure.js';

const l = clusterLayout('dev', 1, 2, '/state');
const flag = (args: string[], name: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

test('apiserver serves on the bridge address with service-account issuing, Node+RBAC authz and NodeRestriction', () => {
  const s = apiServerSpec(l, '/bin');
  assert.equal(s.binary, '/bin/kube-apiserver');
  assert.equal(flag(s.args, 'bind-address'), '172.28.1.1');
  assert.equal(flag(s.args, 'etcd-servers'), 'http://127.0.0.1:12381');
  assert.equal(flag(s.args, 'service-cluster-ip-range'), '10.97.0.0/16');
  assert.equal(flag(s.args, 'service-account-signing-key-file'), '/state/dev/pki/sa.key');
  assert.equal(flag(s.args, 'service-account-key-file'), '/state/dev/pki/sa.pub');
  assert.equal(flag(s.args, 'authorization-mode'), 'Node,RBAC');
  assert.equal(flag(s.args, 'enable-admission-plugins'), 'NodeRestriction');
});

test('controller manager allocates node CIDRs from the cluster CIDR and signs service-account tokens', () => {
  const s = controllerManagerSpec(l, '/bin');
  assert.equal(flag(s.args, 'allocate-node-cidrs'), 'true');
  assert.equal(flag(s.args, 'cluster-cidr'), '10.241.0.0/16');
  assert.equal(flag(s.args, 'service-account-private-key-file'), '/state/dev/pki/sa.key');
  assert.equal(flag(s.args, 'root-ca-file'), '/state/dev/pki/ca.crt');
  assert.equal(flag(s.args, 'controllers'), '*,bootstrapsigner,tokencleaner');
  assert.equal(flag(s.args, 'secure-port'), '11017');
  assert.equal(flag(schedulerSpec(l, '/bin').args, 'secure-port'), '11019');
});

test('etcd of different slots listen on different loopback ports; kube-proxy runs in iptables mode per node', () => {
  assert.equal(flag(etcdSpec(l, '/bin').args, 'listen-client-urls'), 'http://127.0.0.1:12381');
  assert.equal(
    flag(etcdSpec(clusterLayout('b', 2, 1, '/s'), '/bin').args, 'listen-client-urls'),
    'http://127.0.0.1:12383',
  );
  const kp = kubeProxySpec(l, l.nodes[1]!, '/bin');
  assert.equal(flag(kp.args, 'proxy-mode'), 'iptables');
  assert.equal(flag(kp.args, 'hostname-override'), 'dev-node2');
  assert.equal(flag(kp.args, 'conntrack-max-per-core'), '0');
});
