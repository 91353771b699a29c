// ListenerSet admission: the parentRef's defaults, listeners read as a Gateway's (certificateRefs
// default to the set's namespace), and bad objects refused with the field at fault. Also the
// Gateway's spec.allowedListeners (default None) and an IPAddress entry without a value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admitObject } from './admit.js';

const set = (spec: Record<string, unknown>) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'ListenerSet',
  metadata: { name: 'ls', namespace: 'team' },
  spec,
});

test('a ListenerSet keeps its parent (defaults filled in) and its listeners', () => {
  const r = admitObject(
    'listenerSets',
    set({
      parentRef: { name: 'public', namespace: 'edge' },
      listeners: [
        {
          name: 'shop',
          port: 443,
          protocol: 'HTTPS',
          hostname: 'shop.example.com',
          tls: { certificateRefs: [{ name: 'cert' }] },
        },
      ],
    }),
  );
  assert.ok(r.ok, r.ok ? '' : r.reason);
  assert.deepEqual(r.value.spec.parentRef, {
    group: 'gateway.networking.k8s.io',
    kind: 'Gateway',
    namespace: 'edge',
    name: 'public',
  });
  const l = r.value.spec.listeners[0]!;
  assert.equal(l.tls?.certificateRefs[0]?.namespace, 'team');
  assert.equal(l.allowedRoutes.namespaces.from, 'Same');
  const same = admitObject('listenerSets', set({ parentRef: { name: 'public' }, listeners: [] }));
  assert.ok(same.ok);
  assert.equal(same.value.spec.parentRef.namespace, 'team');
});

test('a ListenerSet without a parent name or with a listener missing its port is refused', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ listeners: [] }, /spec\.parentRef: expected/],
    [{ parentRef: { kind: 'Gateway' }, listeners: [] }, /spec\.parentRef\.name: expected/],
    [
      { parentRef: { name: 'public' }, listeners: [{ name: 'x', protocol: 'HTTP' }] },
      /spec\.listeners\[0\]\.port: expected/,
    ],
  ];
  for (const [spec, message] of cases) {
    const r = admitObject('listenerSets', set(spec));
    assert.equal(r.ok, false, JSON.stringify(spec));
    if (!r.ok) assert.match(r.reason, message);
  }
});

test("a Gateway's allowedListeners default to None; an IPAddress address may leave its value out", () => {
  const gw = (spec: Record<string, unknown>) =>
    admitObject('gateways', {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'g', namespace: 'edge' },
      spec: { gatewayClassName: 'trellis', listeners: [], ...spec },
    });
  const plain = gw({});
  assert.ok(plain.ok);
  assert.deepEqual(plain.value.spec.allowedListeners, { from: 'None' });
  const open = gw({
    allowedListeners: { namespaces: { from: 'Selector', selector: { matchLabels: { a: 'b' } } } },
    addresses: [{ type: 'IPAddress' }],
  });
  assert.ok(open.ok, open.ok ? '' : open.reason);
  assert.equal(open.value.spec.allowedListeners.from, 'Selector');
  assert.deepEqual(open.value.spec.addresses, [{ type: 'IPAddress', value: '' }]);
});
