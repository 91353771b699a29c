import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workload } from '../test-support/fixtures.js';
import { newTraceparent, sourceBaggage, tunnelHeaders } from './tunnel-headers.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('tunnel headers', () => {
  it('starts a new sampled W3C trace per connection, no two alike (across pool refills)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const m = TRACEPARENT.exec(newTraceparent());
      assert.ok(m, 'version 00, 32 hex digits of trace id, 16 of span id, sampled');
      seen.add(m[1]!);
    }
    assert.equal(seen.size, 1000);
  });

  it('takes the trace id and then the span id from the random bytes', () => {
    const bytes = Buffer.from(Array.from({ length: 24 }, (_, i) => i));
    assert.equal(
      newTraceparent(() => bytes),
      '00-000102030405060708090a0b0c0d0e0f-1011121314151617-01',
    );
  });

  it('draws again rather than give an all-zero trace or span id (invalid in the format)', () => {
    const draws = [Buffer.alloc(24), Buffer.alloc(24, 1), Buffer.alloc(24, 2)];
    draws[1]!.fill(0, 16); // a valid trace id, an all-zero span id
    assert.equal(
      newTraceparent(() => draws.shift()!),
      `00-${'02'.repeat(16)}-${'02'.repeat(8)}-01`,
    );
  });

  it("describes the source workload in Istio's baggage keys, leaving out empty values", () => {
    const w = workload({
      uid: 'c//Pod/shop/cart-1',
      name: 'cart-1',
      namespace: 'shop',
      clusterId: 'c1',
      workloadName: 'cart',
      workloadType: 'deployment',
      canonicalName: 'cart svc',
      canonicalRevision: '',
    });
    assert.equal(
      sourceBaggage(w),
      'k8s.cluster.name=c1,k8s.namespace.name=shop,k8s.deployment.name=cart,service.name=cart%20svc',
    );
    const headers = tunnelHeaders({ address: '10.0.0.7', port: 4242 }, w);
    assert.equal(headers.forwarded, 'for="10.0.0.7:4242"');
    assert.match(headers.traceparent, TRACEPARENT);
    assert.equal(headers.baggage, sourceBaggage(w));
    assert.equal('baggage' in tunnelHeaders({ address: '10.0.0.7', port: 1 }, undefined), false);
  });
});
