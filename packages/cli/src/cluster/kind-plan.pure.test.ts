import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseNodeImage,
  dockerUnreachable,
  kindConfig,
  kindCreateArgs,
  kindLoadArgs,
  kindNameProblem,
  kindNetwork,
  meshImages,
  parseKindClusters,
  pinnedKubernetesVersion,
} from './kind-plan.pure.js';

test('kind cluster config: one control-plane node, the rest workers', () => {
  assert.equal(
    kindConfig(3),
    'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n  - role: worker\n  - role: worker\n',
  );
  assert.match(kindConfig(1), /nodes:\n {2}- role: control-plane\n$/);
  assert.throws(() => kindConfig(0), /--nodes must be at least 1/);
});

test('cluster names kind accepts, and why others are refused', () => {
  for (const ok of ['trellis', 'e2e123', 'a', 'dev.1-x'])
    assert.equal(kindNameProblem(ok), undefined);
  for (const bad of ['Dev', '-x', 'x-', 'a_b', '', 'x'.repeat(51)])
    assert.match(kindNameProblem(bad) ?? '', /invalid cluster name .*lower-case letters, digits/);
});

test('the pinned Kubernetes version is read from a go.mod', () => {
  const goMod = 'module m\n\nrequire (\n\tk8s.io/api v0.34.4\n\tk8s.io/kubernetes v1.34.4\n)\n';
  assert.equal(pinnedKubernetesVersion(goMod), 'v1.34.4');
  assert.equal(pinnedKubernetesVersion('module m\n'), undefined);
});

test('node image: --image, else the offline image when Docker has it, else kind default', () => {
  const offline = 'trellis/kind-node:v1.34.4';
  assert.deepEqual(
    chooseNodeImage({ flag: 'kindest/node:v1.34.0', offline, offlinePresent: true }),
    {
      image: 'kindest/node:v1.34.0',
      why: '--image',
    },
  );
  assert.equal(chooseNodeImage({ flag: undefined, offline, offlinePresent: true }).image, offline);
  const absent = chooseNodeImage({ flag: undefined, offline, offlinePresent: false });
  assert.equal(absent.image, undefined);
  assert.match(absent.why, /trellis\/kind-node:v1\.34\.4 is not here: tools\/kind-node\/build\.sh/);
  assert.equal(
    chooseNodeImage({ flag: undefined, offline: undefined, offlinePresent: false }).image,
    undefined,
  );
});

test('kind create and load arguments', () => {
  assert.deepEqual(
    kindCreateArgs({
      name: 'dev',
      config: '/t/c.yaml',
      kubeconfig: '/k',
      image: 'img:1',
      wait: '5m',
    }),
    [
      'create',
      'cluster',
      '--name',
      'dev',
      '--config',
      '/t/c.yaml',
      '--kubeconfig',
      '/k',
      '--wait',
      '5m',
      '--image',
      'img:1',
    ],
  );
  assert.ok(
    !kindCreateArgs({
      name: 'dev',
      config: 'c',
      kubeconfig: 'k',
      image: undefined,
      wait: '5m',
    }).includes('--image'),
  );
  assert.deepEqual(kindLoadArgs('dev', meshImages('0.1.0')), [
    'load',
    'docker-image',
    '--name',
    'dev',
    'trellis/control-plane:0.1.0',
    'trellis/ztunnel:0.1.0',
    'trellis/waypoint:0.1.0',
    'trellis/cni:0.1.0',
  ]);
  assert.equal(kindNetwork('dev'), 'kind-dev');
});

test('kind get clusters output, with and without clusters', () => {
  assert.deepEqual(parseKindClusters('dev\ne2e42\n'), ['dev', 'e2e42']);
  assert.deepEqual(parseKindClusters(''), []);
});

test('an unreachable Docker engine says how to start one', () => {
  const m = dockerUnreachable('Cannot connect to the Docker daemon at unix:///x.sock\n');
  assert.match(m, /needs a running Docker engine, and none answers \(Cannot connect .*x\.sock\)/);
  assert.match(m, /tools\/docker-here\.sh start && eval "\$\(tools\/docker-here\.sh env\)"/);
});
