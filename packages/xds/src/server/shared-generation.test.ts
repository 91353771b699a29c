// A generator that declares a scope runs once per snapshot for all its proxies, and its result is
// indexed once: pushing one change to many streams does not walk every resource per stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Any } from '@bufbuild/protobuf/wkt';
import { CLUSTER_TYPE_URL } from '@trellis/api';
import { sharedGenerator, type ResourceSnapshot } from './generators.js';
import type { GeneratedResource } from './types.js';
import { harness } from '../test-support/harness.js';
import { Recorder } from '../test-support/resources.js';
import { snapshot } from '../test-support/resources.js';

/** A result map that counts how often it is iterated in full. */
class CountingMap extends Map<string, GeneratedResource> {
  walks = 0;
  override [Symbol.iterator]() {
    this.walks++;
    return super[Symbol.iterator]();
  }
  override entries() {
    this.walks++;
    return super.entries();
  }
}

test('a shared generator runs once per snapshot and its result is walked once, whatever the number of streams', async (t) => {
  const calls: string[] = [];
  const results: CountingMap[] = [];
  const clusters = sharedGenerator<ResourceSnapshot>((typeUrl, snap) => {
    const out = new CountingMap();
    for (const [name, resource] of snap.get(typeUrl) ?? new Map<string, Any>()) {
      out.set(name, { resource });
    }
    calls.push(typeUrl);
    results.push(out);
    return out;
  });
  const h = await harness(t, {
    snapshot: snapshot({ clusters: { a: 'v1', b: 'v1', c: 'v1' } }),
    generators: { [CLUSTER_TYPE_URL]: clusters },
  });
  const wildcard = [1, 2, 3].map((i) => {
    const r = new Recorder();
    h.delta(`ztunnel~10.0.0.${i}~z-${i}.istio-system~istio-system.svc.cluster.local`).watch(
      CLUSTER_TYPE_URL,
      r,
    );
    return r;
  });
  const named = new Recorder();
  h.delta('ztunnel~10.0.0.9~z-9.istio-system~istio-system.svc.cluster.local').watch(
    CLUSTER_TYPE_URL,
    named,
    ['b', 'd'],
  );
  const sotw = new Recorder();
  h.sotw().watch(CLUSTER_TYPE_URL, sotw);
  await Promise.all(wildcard.map((r) => r.state({ a: 'v1', b: 'v1', c: 'v1' })));
  await named.state({ b: 'v1' });
  await sotw.state({ a: 'v1', b: 'v1', c: 'v1' });
  assert.equal(calls.length, 1, 'one generator call for five streams');

  const from = wildcard.map((r) => r.changes.length);
  h.xds.update({ snapshot: snapshot({ clusters: { a: 'v1', b: 'v2', d: 'v1' } }) });
  const pushed = await Promise.all(
    wildcard.map((r, i) => r.state({ a: 'v1', b: 'v2', d: 'v1' }, from[i])),
  );
  for (const change of pushed) {
    assert.deepEqual([...change.updated.keys()].sort(), ['b', 'd'], 'only the changed names');
    assert.deepEqual(change.removed, ['c']);
  }
  await named.state({ b: 'v2', d: 'v1' });
  await sotw.state({ a: 'v1', b: 'v2', d: 'v1' });
  assert.equal(calls.length, 2, 'one more call for the new snapshot');
  assert.equal(results[1]!.walks, 1, 'the new result is indexed once, not once per stream');
});
