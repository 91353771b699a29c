import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER_TYPE_URL } from '@trellis/api';
import { cluster, listener, Recorder } from '../test-support/resources.js';
import { decodeAll } from './decode.js';

const v = (name: string | undefined, any = cluster(name ?? 'x')) => ({
  name,
  version: '1',
  resource: any,
});

test('decodes every resource of a delta response', () => {
  const r = decodeAll(new Recorder(), CLUSTER_TYPE_URL, [v('a'), v('b')]);
  assert.deepEqual(r, {
    ok: true,
    value: [
      { name: 'a', version: '1', value: 'a=v1' },
      { name: 'b', version: '1', value: 'b=v1' },
    ],
  });
});

test('state-of-the-world resources are named by the handler', () => {
  const r = decodeAll(new Recorder(), CLUSTER_TYPE_URL, [v(undefined, cluster('named'))]);
  assert.ok(r.ok);
  assert.equal(r.value[0]?.name, 'named');
});

test('one bad resource rejects the response, with every reason', () => {
  const r = decodeAll(new Recorder(), CLUSTER_TYPE_URL, [
    v('a'),
    v('b', cluster('b', 'bad')),
    v('l', listener('l')),
    v('a'),
    { name: 'empty', version: '1' },
  ]);
  assert.equal(r.ok, false);
  assert.equal(
    !r.ok && r.reason,
    'b: cluster b is marked bad; ' +
      'l: type URL "type.googleapis.com/envoy.config.listener.v3.Listener" in a response for "type.googleapis.com/envoy.config.cluster.v3.Cluster"; ' +
      'a: listed twice; empty: no resource body',
  );
});

test('bytes that do not decode and a handler without resourceName are rejected with a reason', () => {
  const garbage = { ...cluster('g'), value: new Uint8Array([0xff, 0xff, 0xff]) };
  const bad = decodeAll(new Recorder(), CLUSTER_TYPE_URL, [v('g', garbage)]);
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.reason : '', /^g: .*envoy\.config\.cluster\.v3\.Cluster/);

  const nameless = { decode: new Recorder().decode, onChange() {} };
  const r = decodeAll(nameless, CLUSTER_TYPE_URL, [v(undefined)]);
  assert.match(!r.ok ? r.reason : '', /resource #0: the handler has no resourceName\(\)/);
});
