import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAllStages } from '../test-support/all-stages.js';
import { formatProblem, parseManifests, parseSnapshot } from './manifests.js';

const pod = (name: string, extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
${extra}`;

test('a bad document is reported with file, document number and problem; the others are kept', () => {
  const text = [
    pod('a'),
    'apiVersion: v1\nkind: Pod\nmetadata: {}\n',
    'kind: Service\nmetadata: { name: s }\n',
    '{ not: [valid yaml\n',
    pod('b', '  namespace: team\n'),
  ].join('---\n');
  const r = parseSnapshot(text, 'apps.yaml');
  assert.deepEqual(
    r.snapshot.pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`),
    ['default/a', 'team/b'],
    'namespaced objects without a namespace land in default',
  );
  const messages = r.problems.map(formatProblem);
  assert.equal(messages.length, 3, messages.join('\n'));
  assert.equal(messages[0], 'apps.yaml: document 2: Pod: metadata.name is missing');
  assert.equal(messages[1], 'apps.yaml: document 3: apiVersion is missing');
  assert.match(messages[2]!, /^apps\.yaml: document 4: invalid YAML: /);
});

test('labels must be strings: an unquoted number is rejected with a hint', () => {
  const r = parseSnapshot(pod('a', '  labels:\n    version: 1\n'), 'x.yaml');
  assert.equal(r.snapshot.pods.length, 0);
  assert.deepEqual(r.problems.map(formatProblem), [
    'x.yaml: document 1: Pod a: metadata.labels["version"] must be a string (quote it), got number 1',
  ]);
});

test('kinds the control plane does not read are listed as ignored, not rejected', () => {
  const r = parseSnapshot(
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web, namespace: shop }\n',
    'd.yaml',
  );
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.ignored, ['d.yaml: document 1: apps/v1 Deployment shop/web']);
});

test('an Istio Gateway is not mistaken for a Gateway API Gateway, and a wrong version is an error', () => {
  const r = parseSnapshot(
    [
      'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: istio-gw }\n',
      'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: waypoint }\nspec: { gatewayClassName: trellis-waypoint }\n',
      'apiVersion: security.istio.io/v2\nkind: PeerAuthentication\nmetadata: { name: pa }\n',
    ].join('---\n'),
    'g.yaml',
  );
  assert.deepEqual(
    r.snapshot.gateways.map((g) => g.metadata?.name),
    ['waypoint'],
  );
  assert.equal(r.ignored.length, 1);
  assert.deepEqual(r.problems.map(formatProblem), [
    'g.yaml: document 3: PeerAuthentication pa: unsupported apiVersion security.istio.io/v2 (expected security.istio.io/v1 or security.istio.io/v1beta1)',
  ]);
});

test('kind: List is expanded and a duplicate object is rejected naming the first definition', () => {
  const list = JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'cart', namespace: 'shop' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'cart', namespace: 'shop' } },
      'oops',
    ],
  });
  const r = parseSnapshot(list, 'list.json');
  assert.equal(
    r.snapshot.namespaces[0]?.metadata?.namespace,
    undefined,
    'cluster-scoped kinds get no namespace',
  );
  assert.equal(r.snapshot.services.length, 1);
  assert.deepEqual(r.problems.map(formatProblem), [
    'list.json: document 1: items[3]: expected a Kubernetes object, got the string "oops"',
    'list.json: document 1: duplicate Service/shop/cart: already defined in list.json document 1',
  ]);
});

test('empty documents and comments-only files are fine', () => {
  const r = parseManifests('# nothing here\n---\n---\n', 'empty.yaml');
  assert.deepEqual(r, { objects: [], problems: [], ignored: [] });
});

test('found by the fuzz test: a null field means "not set", a port out of range rejects the object', () => {
  const r = parseSnapshot(
    [
      'apiVersion: v1\nkind: Pod\nmetadata: { name: a, labels: }\nstatus: { podIP: , phase: Running }\n',
      'apiVersion: v1\nkind: Service\nmetadata: { name: s }\nspec: { ports: [{ port: -1 }] }\n',
    ].join('---\n'),
    'n.yaml',
  );
  assert.equal(r.snapshot.pods.length, 1);
  assert.deepEqual(r.problems.map(formatProblem), [
    'n.yaml: document 2: Service default/s: spec.ports[0].port: expected a port number (1-65535), got number -1',
  ]);
  runAllStages(r.snapshot);
});

test('waypoint policies: a DestinationRule or RequestAuthentication of the wrong shape is rejected naming the field', () => {
  const text = [
    'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: dr }\nspec:\n  host: web\n  trafficPolicy: { connectionPool: { tcp: { maxConnections: "ten" } } }\n',
    'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: nohost }\nspec: {}\n',
    'apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: { name: ra }\nspec:\n  jwtRules: [{ issuer: x, fromHeaders: [{ prefix: "Bearer " }] }]\n',
    'apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: { name: ok }\nspec: { host: web }\n',
  ].join('---\n');
  const r = parseSnapshot(text, 'p.yaml');
  assert.deepEqual(
    r.snapshot.destinationRules.map((d) => [d.metadata.name, d.spec.host]),
    [['ok', 'web']],
  );
  assert.deepEqual(r.snapshot.requestAuthentications, []);
  assert.deepEqual(r.problems.map(formatProblem), [
    'p.yaml: document 1: DestinationRule default/dr: spec.trafficPolicy.connectionPool.tcp.maxConnections: expected an integer, got the string "ten"',
    'p.yaml: document 2: DestinationRule default/nohost: spec.host: expected a non-empty string, got nothing',
    'p.yaml: document 3: RequestAuthentication default/ra: spec.jwtRules[0].fromHeaders[0].name: expected a non-empty string, got nothing',
  ]);
});
