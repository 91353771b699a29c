// A first sync larger than grpc-js's 4 MiB default receive limit reaches the clients; a client
// that sets a smaller limit through channelOptions is held to it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER_TYPE_URL } from '@trellis/api';
import { harness, ZTUNNEL_NODE } from '../test-support/harness.js';
import { insecure } from '../test-support/loopback.js';
import { Recorder, snapshot } from '../test-support/resources.js';
import { createDeltaClient } from './delta-client.js';
import { createSotwClient } from './sotw-client.js';
import type { XdsClient } from './types.js';

// Five clusters of ~1 MiB each: one ~5 MiB response.
const big = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((n) => [n, n.repeat(1 << 20)]));

/** Resolves when the client falls back to backoff (its stream failed). */
const failed = (c: XdsClient) =>
  new Promise<'failed'>((resolve) => c.onStateChange((s) => s === 'backoff' && resolve('failed')));

test('a first response over 4 MiB reaches delta and SotW clients with default options', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: big }) });
  for (const client of [h.delta(), h.sotw()]) {
    const clusters = new Recorder();
    client.watch(CLUSTER_TYPE_URL, clusters);
    const outcome = await Promise.race([clusters.state(big), failed(client)]);
    assert.notEqual(outcome, 'failed', `${client.protocol}: the stream failed`);
    assert.equal(client.state, 'connected');
  }
});

test('channelOptions can lower the receive limit: the oversized response fails the stream', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: big }) });
  for (const create of [createDeltaClient, createSotwClient]) {
    const client = create({
      address: h.grpc.address,
      credentials: insecure,
      node: { id: ZTUNNEL_NODE },
      backoff: { initialMs: 1000, maxMs: 1000 },
      channelOptions: { 'grpc.max_receive_message_length': 4 * 1024 * 1024 },
    });
    t.after(() => client.close());
    const clusters = new Recorder();
    client.watch(CLUSTER_TYPE_URL, clusters);
    assert.equal(await failed(client), 'failed');
    assert.equal(clusters.changes.length, 0);
  }
});
