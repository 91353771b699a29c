import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containersOf, readInstallRecord, renderManifests, workloadsOf } from './render.pure.js';
import { parseSets, VALUE_SPECS } from './values.pure.js';
import { loadKustomization } from './kustomize.js';
import { DEPLOY_DIR } from './bundle.js';
import type { KubeObject } from '../kube/objects.pure.js';

const base = loadKustomization(DEPLOY_DIR);
const render = (profile: 'default' | 'minimal', ...sets: string[]) =>
  renderManifests(base, { profile, values: parseSets(sets), version: '9.8.7' });
const find = (objs: KubeObject[], kind: string, name: string) =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);
const env = (c: KubeObject, name: string) => c.env.find((e: KubeObject) => e.name === name)?.value;

test('default: control plane, ztunnel and CNI agent at this version; minimal: no node components', () => {
  const all = render('default');
  assert.deepEqual(
    workloadsOf(all).map((w) => `${w.kind}/${w.metadata.name}`),
    ['Deployment/trellis-control-plane', 'DaemonSet/ztunnel', 'DaemonSet/trellis-cni-node'],
  );
  for (const w of workloadsOf(all))
    for (const c of containersOf(w)) assert.match(c.image, /^trellis\/[a-z-]+:9\.8\.7$/);
  assert.equal(
    env(containersOf(find(all, 'Deployment', 'trellis-control-plane'))[0], 'WAYPOINT_IMAGE'),
    'trellis/waypoint:9.8.7',
  );
  for (const o of all)
    assert.equal(
      o.metadata.labels['app.kubernetes.io/version'],
      '9.8.7',
      `${o.kind} ${o.metadata.name}`,
    );
  const minimal = render('minimal');
  assert.deepEqual(
    workloadsOf(minimal).map((w) => w.metadata.name),
    ['trellis-control-plane'],
  );
  assert.equal(find(minimal, 'ClusterRole', 'trellis-cni'), undefined);
  assert.equal(find(minimal, 'ServiceAccount', 'ztunnel'), undefined);
});

test('--set values land where the components read them', () => {
  const objs = render(
    'default',
    'images.registry=ghcr.io/acme',
    'images.tag=1.2.3-rc.1',
    'images.pullPolicy=Always',
    'trustDomain=example.org',
    'controlPlane.replicas=3',
    'controlPlane.plaintextXds=false',
    'ztunnel.workers=50%',
    'cni.confDir=/etc/kubernetes/cni/net.d',
    'cni.binDir=/home/kubernetes/bin',
    'logLevel=debug',
    'tracing.otlpEndpoint=http://otel-collector.observability:4317',
  );
  const cp = find(objs, 'Deployment', 'trellis-control-plane');
  const cpc = containersOf(cp)[0];
  assert.equal(cp.spec.replicas, 3);
  assert.equal(cpc.image, 'ghcr.io/acme/trellis/control-plane:1.2.3-rc.1');
  assert.equal(cpc.imagePullPolicy, 'Always');
  assert.equal(env(cpc, 'WAYPOINT_IMAGE'), 'ghcr.io/acme/trellis/waypoint:1.2.3-rc.1');
  assert.equal(env(cpc, 'TRUST_DOMAIN'), 'example.org');
  assert.equal(env(cpc, 'XDS_ADDRESS'), 'off');
  assert.equal(env(cpc, 'LOG_LEVEL'), 'debug');
  assert.equal(env(cpc, 'WAYPOINT_OTLP_ENDPOINT'), 'http://otel-collector.observability:4317');
  assert.ok(!cpc.ports.some((p: KubeObject) => p.containerPort === 15010));
  assert.ok(!find(objs, 'Service', 'istiod').spec.ports.some((p: KubeObject) => p.port === 15010));
  const zc = containersOf(find(objs, 'DaemonSet', 'ztunnel'))[0];
  assert.equal(env(zc, 'TRUST_DOMAIN'), 'example.org');
  assert.equal(env(zc, 'ZTUNNEL_WORKER_THREADS'), '50%');
  // The percentage is of the CPU limit, which the downward API gives ztunnel (upstream's chart too).
  assert.deepEqual(zc.env.find((e: KubeObject) => e.name === 'ZTUNNEL_CPU_LIMIT').valueFrom, {
    resourceFieldRef: { resource: 'limits.cpu' },
  });
  const cni = find(objs, 'DaemonSet', 'trellis-cni-node');
  const vols = Object.fromEntries(
    cni.spec.template.spec.volumes.map((v: KubeObject) => [v.name, v.hostPath?.path]),
  );
  assert.equal(vols['cni-net-dir'], '/etc/kubernetes/cni/net.d');
  assert.equal(vols['cni-bin-dir'], '/home/kubernetes/bin');
  assert.equal(
    find(objs, 'ConfigMap', 'trellis-cni-config').data.CNI_NET_DIR,
    '/etc/kubernetes/cni/net.d',
  );
  assert.equal(find(objs, 'ConfigMap', 'trellis-cni-config').data.LOG_LEVEL, 'debug');
});

test('component switches override the profile', () => {
  const names = (objs: KubeObject[]) => workloadsOf(objs).map((w) => w.metadata.name);
  assert.deepEqual(names(render('default', 'cni.enabled=false')), [
    'trellis-control-plane',
    'ztunnel',
  ]);
  assert.deepEqual(names(render('minimal', 'ztunnel.enabled=true')), [
    'trellis-control-plane',
    'ztunnel',
  ]);
});

test('the install record says how Trellis was installed, and reads back', () => {
  const record = find(render('minimal', 'controlPlane.replicas=2'), 'ConfigMap', 'trellis-install');
  assert.equal(record.metadata.namespace, 'trellis-system');
  assert.deepEqual(readInstallRecord(record), {
    profile: 'minimal',
    values: { 'controlPlane.replicas': 2 },
  });
  assert.equal(readInstallRecord(undefined), undefined);
  assert.equal(readInstallRecord({ data: { profile: 'default', values: '{' } }), undefined);
});

test('the input objects are not changed', () => {
  const before = JSON.stringify(base);
  render('default', 'images.tag=x', 'controlPlane.replicas=2');
  assert.equal(JSON.stringify(base), before);
});

test('bad --set arguments say what is wrong and what is accepted', () => {
  const cases: [string, RegExp][] = [
    [
      'replicas=2',
      /--set replicas=2: unknown key "replicas"; known keys: images.registry, .*controlPlane.replicas/,
    ],
    ['controlPlane.replicas=0', /controlPlane.replicas must be an integer from 1 to 10/],
    ['controlPlane.replicas=two', /controlPlane.replicas must be an integer from 1 to 10/],
    ['cni.enabled=yes', /cni.enabled must be true or false/],
    ['logLevel=loud', /logLevel must be one of trace, debug, info, warn, error/],
    ['cni.confDir=relative/dir', /cni.confDir must be an absolute path/],
    ['images.tag=', /images.tag must be an image tag/],
    ['images.tag', /--set images.tag: expected KEY=VALUE/],
    ['cni.excludeNamespaces=Kube_System', /comma-separated namespace names/],
    ...['0', '257', '0%', '101%', '100.5%', 'half'].map((w): [string, RegExp] => [
      `ztunnel.workers=${w}`,
      /ztunnel.workers must be a count from 1 to 256, or a percentage of the CPU limit/,
    ]),
    [
      'tracing.otlpEndpoint=otel-collector:4317',
      /tracing.otlpEndpoint must be http:\/\/host:port or https:\/\/host:port/,
    ],
  ];
  for (const [arg, message] of cases) assert.throws(() => parseSets([arg]), message, arg);
  assert.ok(VALUE_SPECS.length >= 10);
  for (const w of ['1', '256', '50%', '100%', '12.5%', '0.5%'])
    assert.doesNotThrow(() => parseSets([`ztunnel.workers=${w}`]), w);
});
