// A real delta ADS exchange over loopback: subscribe to Addresses, receive one, ACK it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { credentials, Metadata, type ServerDuplexStream } from '@grpc/grpc-js';
import { AggregatedDiscoveryService } from './gen/envoy/service/discovery/v3/ads_pb.js';
import {
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
} from './gen/envoy/service/discovery/v3/discovery_pb.js';
import { AddressSchema, TunnelProtocol } from './gen/istio/workload/workload_pb.js';
import { packAny, unpackAnyAs } from './any.js';
import { grpcClientConstructor } from './grpc-client.js';
import { grpcService } from './grpc-service.js';
import { startLoopbackServer } from './test-support/loopback.js';
import { ADDRESS_TYPE_URL } from './type-urls.js';

const NODE_ID = 'ztunnel~10.0.0.5~ztunnel-x7k2p.istio-system~istio-system.svc.cluster.local';
const POD = 'Kubernetes//Pod/prod/api-0';

test('DeltaAggregatedResources: subscribe, receive an Any-packed Address, ACK by nonce', async (t) => {
  const received: DeltaDiscoveryRequest[] = [];
  let sawEndFromClient = false;
  const srv = await startLoopbackServer((server) => {
    server.addService(grpcService(AggregatedDiscoveryService), {
      deltaAggregatedResources(
        call: ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>,
      ) {
        call.on('data', (req: DeltaDiscoveryRequest) => {
          received.push(req);
          if (received.length === 1) {
            const address = create(AddressSchema, {
              type: {
                case: 'workload',
                value: {
                  uid: POD,
                  addresses: [new Uint8Array([10, 244, 1, 4])],
                  tunnelProtocol: TunnelProtocol.HBONE,
                },
              },
            });
            call.write(
              create(DeltaDiscoveryResponseSchema, {
                typeUrl: ADDRESS_TYPE_URL,
                systemVersionInfo: '2024-01-01T00:00:00Z/1',
                nonce: 'nonce-1',
                resources: [{ name: POD, version: '1', resource: packAny(AddressSchema, address) }],
              }),
            );
          }
        });
        call.on('end', () => {
          sawEndFromClient = true;
          call.end();
        });
      },
    });
  });
  t.after(() => srv.close());

  const Ads = grpcClientConstructor(AggregatedDiscoveryService);
  const client = new Ads(srv.address, credentials.createInsecure());
  t.after(() => client.close());

  const stream = client.deltaAggregatedResources(new Metadata());
  const responses: DeltaDiscoveryResponse[] = [];
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (res: DeltaDiscoveryResponse) => {
      responses.push(res);
      stream.write(
        create(DeltaDiscoveryRequestSchema, { typeUrl: res.typeUrl, responseNonce: res.nonce }),
      );
      stream.end();
    });
    stream.on('error', reject);
    stream.on('end', resolve);
  });
  stream.write(
    create(DeltaDiscoveryRequestSchema, {
      node: { id: NODE_ID },
      typeUrl: ADDRESS_TYPE_URL,
      resourceNamesSubscribe: ['*'],
    }),
  );
  await done;

  assert.equal(received.length, 2, 'the server saw the subscription and the ACK');
  const [subscribe, ack] = received;
  assert.equal(subscribe?.node?.id, NODE_ID);
  assert.equal(subscribe.typeUrl, ADDRESS_TYPE_URL);
  assert.deepEqual(subscribe.resourceNamesSubscribe, ['*']);

  assert.equal(responses.length, 1);
  const resource = responses[0]?.resources[0];
  assert.equal(resource?.name, POD);
  assert.ok(resource.resource);
  const address = unpackAnyAs(resource.resource, AddressSchema);
  assert.equal(address.type.case, 'workload');
  assert.equal(address.type.value.uid, POD);
  assert.deepEqual([...(address.type.value.addresses[0] ?? [])], [10, 244, 1, 4]);

  assert.equal(ack?.typeUrl, ADDRESS_TYPE_URL);
  assert.equal(ack.responseNonce, 'nonce-1');
  assert.equal(ack.errorDetail, undefined, 'an ACK carries no error_detail');
  assert.ok(sawEndFromClient);
});
