// Client behaviour against the real server: handler refusals, misuse, close.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER_TYPE_URL } from '@trellis/api';
import { harness, ZTUNNEL_NODE } from '../test-support/harness.js';
import { insecure } from '../test-support/loopback.js';
import { Recorder, snapshot } from '../test-support/resources.js';
import { eventually } from '@trellis/core/test-support';
import { createDeltaClient } from './delta-client.js';
import type { ResourceChange } from './types.js';

class Picky extends Recorder {
  override onChange(change: ResourceChange<string>): void {
    if (change.resources.size > 2) throw new Error('at most two clusters, please');
    super.onChange(change);
  }
}

for (const protocol of ['delta', 'sotw'] as const) {
  test(`${protocol}: a handler that refuses a change NACKs it and keeps its state`, async (t) => {
    const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1' } }) });
    const clusters = new Picky();
    const client = protocol === 'delta' ? h.delta(ZTUNNEL_NODE) : h.sotw(ZTUNNEL_NODE);
    const watch = client.watch(CLUSTER_TYPE_URL, clusters);
    await clusters.state({ a: 'v1' });

    h.xds.update({ snapshot: snapshot({ clusters: { a: 'v1', b: 'v1', c: 'v1' } }) });
    const d = await eventually('the NACK to be counted', () => {
      const x = h.typeDebug(ZTUNNEL_NODE, CLUSTER_TYPE_URL);
      return x?.nacks === 1 && x;
    });
    assert.equal(d.lastError, 'at most two clusters, please');
    assert.equal(watch.lastError(), 'at most two clusters, please');
    assert.deepEqual([...watch.resources().values()], ['a=v1']);
    assert.equal(watch.version(), '1');
  });
}

test('watching a type twice, or a node without id, is an error', async (t) => {
  const h = await harness(t, { snapshot: snapshot({}) });
  const client = h.delta();
  client.watch(CLUSTER_TYPE_URL, new Recorder());
  assert.throws(() => client.watch(CLUSTER_TYPE_URL, new Recorder()), /already watched/);
  assert.throws(
    () => createDeltaClient({ address: h.grpc.address, credentials: insecure, node: {} }),
    /node\.id is required/,
  );
});

test('close ends the stream: the server sees the proxy go away', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1' } }) });
  const clusters = new Recorder();
  const client = h.delta();
  client.watch(CLUSTER_TYPE_URL, clusters);
  await clusters.state({ a: 'v1' });
  client.close();
  assert.equal(client.state, 'closed');
  await eventually('the connection to close', () => h.xds.connections === 0);
});
