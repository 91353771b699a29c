// Property tests (fast-check, fixed seed, bounded runs) of what the xDS clients read from a server:
// a scripted ADS server on loopback (real gRPC) sends random state-of-the-world and delta
// responses (watched and other type URLs, valid, invalid and undecodable resources, missing and
// odd names, removals). Every response gets its ACK or a NACK with a bounded error_detail; a NACKed
// response changes nothing the client holds; nothing the client holds failed its decoder.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { CLUSTER_TYPE_URL, grpcService, LISTENER_TYPE_URL } from '@trellis/api';
import { AggregatedDiscoveryService } from '@trellis/api/gen/envoy/service/discovery/v3/ads_pb.js';
import {
  DeltaDiscoveryResponseSchema,
  DiscoveryResponseSchema,
  type DeltaDiscoveryRequest,
  type DiscoveryRequest,
} from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import fc from 'fast-check';
import { ZTUNNEL_NODE } from '../test-support/harness.js';
import { insecure } from '../test-support/loopback.js';
import { cluster, listener, Recorder } from '../test-support/resources.js';
import { createDeltaClient } from './delta-client.js';
import { createSotwClient } from './sotw-client.js';

type Request = DiscoveryRequest | DeltaDiscoveryRequest;

/** An ADS server the test scripts: it hands over each stream with the requests it receives. */
async function scriptedServer(t: TestContext) {
  const streams: { call: ServerDuplexStream<unknown, unknown>; requests: Request[] }[] = [];
  let wake: (() => void) | undefined;
  const accept = (call: ServerDuplexStream<unknown, unknown>) => {
    const s = { call, requests: [] as Request[] };
    streams.push(s);
    call.on('data', (r: Request) => {
      s.requests.push(r);
      wake?.();
    });
    call.on('error', () => undefined);
    wake?.();
  };
  const server = new Server();
  server.addService(grpcService(AggregatedDiscoveryService), {
    streamAggregatedResources: accept,
    deltaAggregatedResources: accept,
  } as never);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  t.after(() => server.forceShutdown());
  const until = async (check: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!check()) {
      if (Date.now() > deadline) assert.fail('the client did not answer within 5 s');
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 20);
      });
    }
  };
  return { address: `127.0.0.1:${port}`, streams, until };
}

const name = fc.oneof(fc.constantFrom('a', 'b', 'c', ''), fc.string({ maxLength: 300 }));
const tag = fc.constantFrom('v1', 'v2', 'bad');
const anyResource: fc.Arbitrary<Any> = fc.oneof(
  fc.tuple(name, tag).map(([n, t]) => cluster(n, t)),
  fc.tuple(name, tag).map(([n, t]) => listener(n, t)),
  fc.uint8Array({ maxLength: 40 }).map((value) => ({ ...cluster('x'), value }) as Any),
  fc
    .tuple(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 20 }))
    .map(([typeUrl, value]) => ({ ...cluster('x'), typeUrl, value }) as Any),
);
const typeUrl = fc.oneof(
  fc.constant(CLUSTER_TYPE_URL),
  fc.constant(CLUSTER_TYPE_URL),
  fc.constant(LISTENER_TYPE_URL),
  fc.string({ maxLength: 300 }),
);
const response = fc.record({
  typeUrl,
  nonce: fc.string({ minLength: 1, maxLength: 20 }),
  version: fc.string({ maxLength: 10 }),
  resources: fc.array(
    fc.record({
      name,
      version: fc.string({ maxLength: 5 }),
      resource: fc.option(anyResource, { nil: undefined }),
    }),
    { maxLength: 4 },
  ),
  removed: fc.array(name, { maxLength: 3 }),
});

for (const protocol of ['sotw', 'delta'] as const) {
  test(`property (${protocol}): every response is ACKed or NACKed with a reason; a NACK changes nothing`, async (t) => {
    const server = await scriptedServer(t);
    await fc.assert(
      fc.asyncProperty(fc.array(response, { minLength: 1, maxLength: 6 }), async (responses) => {
        const options = {
          address: server.address,
          credentials: insecure,
          node: { id: ZTUNNEL_NODE },
        };
        const client =
          protocol === 'delta' ? createDeltaClient(options) : createSotwClient(options);
        try {
          const clusters = new Recorder();
          const watch = client.watch(CLUSTER_TYPE_URL, clusters);
          const stream = server.streams.length;
          await server.until(() => server.streams[stream]?.requests.length === 1);
          const s = server.streams[stream]!;
          for (const r of responses) {
            const before = new Map(watch.resources());
            s.call.write(
              protocol === 'delta'
                ? create(DeltaDiscoveryResponseSchema, {
                    typeUrl: r.typeUrl,
                    nonce: r.nonce,
                    systemVersionInfo: r.version,
                    resources: r.resources.map((x) => ({
                      name: x.name,
                      version: x.version,
                      ...(x.resource ? { resource: x.resource } : {}),
                    })),
                    removedResources: r.removed,
                  })
                : create(DiscoveryResponseSchema, {
                    typeUrl: r.typeUrl,
                    nonce: r.nonce,
                    versionInfo: r.version,
                    resources: r.resources.flatMap((x) => (x.resource ? [x.resource] : [])),
                  }),
            );
            const seen = s.requests.length;
            await server.until(() => s.requests.length > seen);
            const reply = s.requests[seen]!;
            assert.equal(reply.responseNonce, r.nonce, 'the reply names the response');
            assert.equal(reply.typeUrl, r.typeUrl);
            if (reply.errorDetail) {
              assert.ok(reply.errorDetail.message.length > 0);
              assert.ok(reply.errorDetail.message.length < 2000, 'a bounded error_detail');
              assert.deepEqual(new Map(watch.resources()), before, 'a NACK changes nothing');
            }
            for (const [n, v] of watch.resources()) {
              // SotW names come from the decoded value; delta ones from the wrapper.
              assert.ok(n !== '' && (protocol === 'delta' || v.startsWith(`${n}=`)), `${n}: ${v}`);
              assert.ok(!v.endsWith('=bad'), 'nothing held failed its decoder');
            }
          }
        } finally {
          client.close();
        }
      }),
      { seed: 17, numRuns: 60 },
    );
  });
}
