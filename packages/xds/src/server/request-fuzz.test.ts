// Property tests (fast-check, fixed seed, bounded runs) of what the xDS server reads from clients,
// over real gRPC on loopback: random sequences of state-of-the-world and delta requests (nodes with
// and without ids, known and made-up type URLs, wildcard and odd resource names, stale and made-up
// nonces, NACKs with long error details) and random bytes as a request. The server answers or ends
// the stream with a status that says why, never crashes, and keeps no stream of a gone client; a
// well-behaved client is served afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Client, Metadata, status, type ClientDuplexStream } from '@grpc/grpc-js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '@trellis/api';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
} from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import fc from 'fast-check';
import { harness, ZTUNNEL_NODE } from '../test-support/harness.js';
import { insecure } from '../test-support/loopback.js';
import { rawDelta, rawSotw } from '../test-support/raw-stream.js';
import { Recorder, snapshot } from '../test-support/resources.js';
import { eventually } from '@trellis/core/test-support';

const typeUrl = fc.oneof(
  fc.constantFrom(CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ''),
  fc.string({ maxLength: 80 }).map((s) => `type.googleapis.com/${s}`),
  fc.string({ maxLength: 40 }),
);
const names = fc.array(fc.oneof(fc.constantFrom('*', 'a', 'b', ''), fc.string({ maxLength: 40 })), {
  maxLength: 5,
});
const node = fc.oneof(
  fc.constant(undefined),
  fc.constant({ id: ZTUNNEL_NODE }),
  fc.string({ maxLength: 200 }).map((id) => ({ id })),
  fc.record({ id: fc.string({ maxLength: 20 }), cluster: fc.string({ maxLength: 20 }) }),
);
const nonce = fc.oneof(fc.constant(''), fc.constant('LAST'), fc.string({ maxLength: 20 }));
const errorDetail = fc.option(
  fc.record({ code: fc.integer({ min: -1, max: 20 }), message: fc.string({ maxLength: 3000 }) }),
  { nil: undefined },
);

const sotwRequest = fc.record({
  node,
  typeUrl,
  versionInfo: fc.string({ maxLength: 20 }),
  resourceNames: names,
  responseNonce: nonce,
  errorDetail,
});
const deltaRequest = fc.record({
  node,
  typeUrl,
  resourceNamesSubscribe: names,
  resourceNamesUnsubscribe: names,
  initialResourceVersions: fc.dictionary(
    fc.string({ maxLength: 10 }),
    fc.string({ maxLength: 10 }),
    {
      maxKeys: 3,
    },
  ),
  responseNonce: nonce,
  errorDetail,
});

/** What this test uses of a raw stream of either protocol. */
interface Raw {
  send(req: unknown): void;
  readonly received: readonly { readonly nonce: string }[];
  readonly status: Promise<{ code: number; details: string }>;
  end(): void;
}

/** The status the stream ended with, or undefined when it is still open after `ms`. */
async function statusWithin(
  raw: Raw,
  ms: number,
): Promise<{ code: number; details: string } | undefined> {
  return Promise.race([
    raw.status,
    new Promise<undefined>((r) => setTimeout(() => r(undefined), ms)),
  ]);
}

test('property: random request sequences get answers or a status saying why; no stream outlives its client', async (t) => {
  const h = await harness(t, { snapshot: snapshot({ clusters: { a: 'v1', b: 'v1' } }) });
  const lastNonce = (raw: Raw) => raw.received.at(-1)?.nonce ?? '';
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.array(sotwRequest, { minLength: 1, maxLength: 5 }).map((r) => ({ delta: false, r })),
        fc.array(deltaRequest, { minLength: 1, maxLength: 5 }).map((r) => ({ delta: true, r })),
      ),
      async ({ delta, r }) => {
        const raw = (delta ? rawDelta(h.grpc.address) : rawSotw(h.grpc.address)) as unknown as Raw;
        try {
          for (const req of r) {
            const n = req.responseNonce === 'LAST' ? lastNonce(raw) : req.responseNonce;
            raw.send(
              delta
                ? create(DeltaDiscoveryRequestSchema, { ...req, responseNonce: n } as never)
                : create(DiscoveryRequestSchema, { ...req, responseNonce: n } as never),
            );
            await new Promise((res) => setTimeout(res, 2));
          }
          // A first request without node.id must end the stream: wait for that as long as it takes.
          const ended = await statusWithin(raw, r[0]!.node?.id ? 50 : 5000);
          if (ended && ended.code !== status.OK) {
            assert.ok(ended.details.length > 0 && ended.details.length < 500, ended.details);
            if (!r[0]!.node?.id)
              assert.equal(ended.code, status.INVALID_ARGUMENT, 'a first request without node.id');
          }
          if (!ended && r[0]!.node?.id === undefined)
            assert.fail('a stream without node.id was kept');
        } finally {
          raw.end();
        }
        await eventually('the server to let the stream go', () => h.xds.connections === 0, {
          intervalMs: 5,
        });
      },
    ),
    { seed: 21, numRuns: 80 },
  );

  // Random bytes where a request should be: the stream fails, the server goes on.
  const grpc = new Client(h.grpc.address, insecure);
  t.after(() => grpc.close());
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 256 }), async (bytes) => {
      const call: ClientDuplexStream<Buffer, Buffer> = grpc.makeBidiStreamRequest(
        '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
        (b: Buffer) => b,
        (b: Buffer) => b,
        new Metadata(),
      );
      call.on('data', () => undefined);
      const ended = new Promise<{ code: number; details: string }>((res) => call.on('status', res));
      call.on('error', () => undefined);
      call.write(Buffer.from(bytes));
      const s = await Promise.race([
        ended,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)),
      ]);
      if (s) assert.notEqual(s.code, status.OK);
      call.cancel();
      await eventually('the server to let the stream go', () => h.xds.connections === 0, {
        intervalMs: 5,
      });
    }),
    { seed: 21, numRuns: 60 },
  );

  // A well-behaved client is served.
  const clusters = new Recorder();
  h.delta().watch(CLUSTER_TYPE_URL, clusters);
  await clusters.state({ a: 'v1', b: 'v1' });
});
