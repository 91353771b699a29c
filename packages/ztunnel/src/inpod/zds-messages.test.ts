// Property tests of the ZDS decoder (fast-check, fixed seed, bounded runs): whatever the agent
// sends (any bytes, any request with any number of fds), decoding never throws; a refusal says
// why in a bounded message; an accepted request keeps the fd rules (an add owns exactly one, the
// others none) and bounded identifiers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { WorkloadRequestSchema } from '@trellis/api/gen/istio/workload/zds/zds_pb.js';
import fc from 'fast-check';
import { decodeWorkloadRequest } from './zds-messages.js';

const text = fc.oneof(
  fc.constantFrom('', 'pod-1', 'ü'),
  fc.string(),
  fc.string({ minLength: 250, maxLength: 300 }),
  fc.string({ minLength: 5000, maxLength: 6000 }),
);
const payload = fc.oneof(
  fc.record({ uid: text, name: text, namespace: text, serviceAccount: text }).map((p) => ({
    case: 'add' as const,
    value: {
      uid: p.uid,
      workloadInfo: { name: p.name, namespace: p.namespace, serviceAccount: p.serviceAccount },
    },
  })),
  text.map((uid) => ({ case: 'keep' as const, value: { uid } })),
  text.map((uid) => ({ case: 'del' as const, value: { uid } })),
  fc.constant({ case: 'snapshotSent' as const, value: {} }),
  fc.constant(undefined),
);
const message = payload.map((p) =>
  toBinary(WorkloadRequestSchema, create(WorkloadRequestSchema, p ? { payload: p } : {})),
);
const packet = fc.record({
  data: fc.oneof(message, fc.uint8Array({ maxLength: 512 })),
  fds: fc.array(fc.integer({ min: 3, max: 1000 }), { maxLength: 3 }),
});

test('property: any ZDS packet is decoded or refused with a bounded reason, never thrown', () => {
  fc.assert(
    fc.property(packet, ({ data, fds }) => {
      const r = decodeWorkloadRequest(data, fds);
      if (!r.ok) {
        assert.ok(r.reason.length > 0 && r.reason.length < 400, r.reason.slice(0, 500));
        return;
      }
      const req = r.value;
      if (req.kind === 'add') {
        assert.equal(fds.length, 1);
        assert.equal(req.netnsFd, fds[0]);
        assert.ok(req.pod.uid.length > 0 && req.pod.uid.length <= 256);
        for (const v of [req.pod.name, req.pod.namespace, req.pod.serviceAccount])
          assert.ok(v.length <= 253);
      } else {
        assert.equal(fds.length, 0);
        if (req.kind !== 'snapshot-sent') assert.ok(req.uid.length > 0 && req.uid.length <= 256);
      }
    }),
    { seed: 11, numRuns: 400 },
  );
});
