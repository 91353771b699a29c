import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerEnv, fieldRefValue, podHostname } from './env.pure.js';

const facts = {
  name: 'web-1',
  namespace: 'shop',
  uid: 'u1',
  podIP: '10.240.0.5',
  hostIP: '172.28.0.11',
  nodeName: 'dev-node1',
  serviceAccountName: 'web',
  labels: { app: 'web' },
  annotations: {},
};
const svc = { host: '10.96.0.1', port: 443 };

test('downward API fieldRefs resolve to the pod facts', () => {
  const env = containerEnv(
    {
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'URL', value: 'http://$(POD_IP):80' },
      ],
    },
    facts,
    () => undefined,
    svc,
  );
  assert.equal(env.POD_NAME, 'web-1');
  assert.equal(env.POD_NAMESPACE, 'shop');
  assert.equal(env.POD_IP, '10.240.0.5');
  assert.equal(env.NODE_NAME, 'dev-node1');
  assert.equal(env.SA, 'web');
  assert.equal(env.APP, 'web');
  assert.equal(env.URL, 'http://10.240.0.5:80');
  assert.equal(env.KUBERNETES_SERVICE_HOST, '10.96.0.1');
});

test('ConfigMap and Secret keys, envFrom prefixes, and missing required keys', () => {
  const lookup = (kind: string, name: string) =>
    kind === 'ConfigMap' && name === 'cfg' ? { LEVEL: 'debug' } : undefined;
  const env = containerEnv(
    {
      envFrom: [{ prefix: 'C_', configMapRef: { name: 'cfg' } }],
      env: [{ name: 'L', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'LEVEL' } } }],
    },
    facts,
    lookup,
    svc,
  );
  assert.equal(env.C_LEVEL, 'debug');
  assert.equal(env.L, 'debug');
  assert.throws(
    () =>
      containerEnv(
        { env: [{ name: 'S', valueFrom: { secretKeyRef: { name: 'x', key: 'k' } } }] },
        facts,
        lookup,
        svc,
      ),
    /Secret x key k not found \(env S\)/,
  );
  assert.throws(
    () => containerEnv({ envFrom: [{ prefix: 'X_' }] }, facts, lookup, svc),
    /envFrom: neither configMapRef nor secretRef is set/,
  );
  assert.throws(
    () => fieldRefValue('spec.bogus', facts),
    /unsupported fieldRef fieldPath "spec.bogus"/,
  );
});

test("the image's env is the base: the pod's env overrides it, the kubelet's variables win", () => {
  const env = containerEnv({ env: [{ name: 'MODE', value: 'pod' }] }, facts, () => undefined, svc, {
    PATH: '/opt/tool/bin:/usr/bin',
    MODE: 'image',
    LANG: 'C.UTF-8',
    KUBERNETES_SERVICE_HOST: 'bogus',
  });
  assert.equal(env.PATH, '/opt/tool/bin:/usr/bin');
  assert.equal(env.LANG, 'C.UTF-8');
  assert.equal(env.MODE, 'pod');
  assert.equal(env.KUBERNETES_SERVICE_HOST, '10.96.0.1');
  assert.equal(env.HOSTNAME, 'web-1');
});

test('the hostname is spec.hostname, else the pod name cut to 63 characters', () => {
  assert.equal(podHostname({ name: 'web-1' }), 'web-1');
  assert.equal(podHostname({ name: 'web-1', hostname: 'db' }), 'db');
  const long = `${'a'.repeat(62)}-suffix`;
  assert.equal(podHostname({ name: long }), 'a'.repeat(62));
  assert.equal(podHostname({ name: 'b'.repeat(70) }).length, 63);
});

test("resourceFieldRefs: the container's limit over the divisor, rounded up; no limit: the node's", () => {
  const cpu = { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } };
  const mem = {
    name: 'MEM',
    valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
  };
  const limited = containerEnv(
    { env: [cpu, mem], resources: { limits: { cpu: '500m', memory: '256Mi' } } },
    facts,
    () => undefined,
    svc,
  );
  assert.deepEqual([limited.CPU, limited.MEM], ['1', '256']);
  const unlimited = containerEnv({ env: [cpu, mem] }, facts, () => undefined, svc);
  assert.deepEqual([unlimited.CPU, unlimited.MEM], ['2', '4096']);
});
