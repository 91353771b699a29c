// The grpc-js definition built from generated services, and what happens to bytes that do not decode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Client, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { AggregatedDiscoveryService } from './gen/envoy/service/discovery/v3/ads_pb.js';
import {
  IstioCertificateRequestSchema,
  IstioCertificateResponseSchema,
  IstioCertificateService,
  type IstioCertificateResponse,
} from './gen/istio/v1/auth/ca_pb.js';
import { ProtoDecodeError } from './decode-error.js';
import { grpcClientConstructor } from './grpc-client.js';
import { grpcService } from './grpc-service.js';
import { startLoopbackServer } from './test-support/loopback.js';

const CREATE_CERTIFICATE = '/istio.v1.auth.IstioCertificateService/CreateCertificate';
// A length-delimited field 1 that claims 5 bytes but has only 1.
const TRUNCATED = Buffer.from([0x0a, 0x05, 0x01]);

test('paths and streaming flags come from the service descriptor', () => {
  const ads = grpcService(AggregatedDiscoveryService);
  assert.equal(
    ads.deltaAggregatedResources.path,
    '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources',
  );
  assert.equal(ads.deltaAggregatedResources.requestStream, true);
  assert.equal(ads.deltaAggregatedResources.responseStream, true);
  assert.equal(
    ads.streamAggregatedResources.path,
    '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
  );

  const ca = grpcService(IstioCertificateService);
  assert.equal(ca.createCertificate.path, CREATE_CERTIFICATE);
  assert.equal(ca.createCertificate.requestStream, false);
  assert.equal(ca.createCertificate.responseStream, false);
});

test('serializers speak protobuf binary; undecodable bytes raise ProtoDecodeError', () => {
  const { createCertificate } = grpcService(IstioCertificateService);
  const req = create(IstioCertificateRequestSchema, { csr: 'x', validityDuration: 60n });
  assert.deepEqual([...createCertificate.requestSerialize(req)], [0x0a, 0x01, 0x78, 0x18, 0x3c]);
  assert.equal(
    createCertificate.requestDeserialize(createCertificate.requestSerialize(req)).csr,
    'x',
  );
  assert.throws(
    () => createCertificate.requestDeserialize(TRUNCATED),
    (err: unknown) => {
      assert.ok(err instanceof ProtoDecodeError);
      assert.equal(
        err.message,
        'cannot decode istio.v1.auth.IstioCertificateRequest: premature EOF',
      );
      return true;
    },
  );
});

test('a malformed request fails that call with INTERNAL; the server keeps serving', async (t) => {
  let handled = 0;
  const srv = await startLoopbackServer((server) =>
    server.addService(grpcService(IstioCertificateService), {
      createCertificate(
        _call: unknown,
        callback: (err: null, res: IstioCertificateResponse) => void,
      ) {
        handled++;
        callback(null, create(IstioCertificateResponseSchema, { certChain: ['ok'] }));
      },
    }),
  );
  t.after(() => srv.close());
  const raw = new Client(srv.address, credentials.createInsecure());
  t.after(() => raw.close());

  const err = await new Promise<ServiceError | null>((resolve) => {
    raw.makeUnaryRequest(
      CREATE_CERTIFICATE,
      (b: Buffer) => b,
      (b: Buffer) => b,
      TRUNCATED,
      (e) => resolve(e),
    );
  });
  assert.equal(err?.code, status.INTERNAL);
  assert.match(err.details, /deserializ/i);
  assert.equal(handled, 0, 'the handler never sees a request that did not decode');

  const Ca = grpcClientConstructor(IstioCertificateService);
  const client = new Ca(srv.address, credentials.createInsecure());
  t.after(() => client.close());
  const res = await new Promise<IstioCertificateResponse | undefined>((resolve, reject) =>
    client.createCertificate(create(IstioCertificateRequestSchema, { csr: 'x' }), (e, r) =>
      e ? reject(e) : resolve(r),
    ),
  );
  assert.deepEqual(res?.certChain, ['ok']);
});

test('a malformed response fails the call at the client with INTERNAL naming the message type', async (t) => {
  // A server that answers CreateCertificate with bytes that are not an IstioCertificateResponse.
  const srv = await startLoopbackServer((server) =>
    server.addService(
      {
        createCertificate: {
          path: CREATE_CERTIFICATE,
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      {
        createCertificate(_call: unknown, callback: (err: null, res: Buffer) => void) {
          callback(null, TRUNCATED);
        },
      },
    ),
  );
  t.after(() => srv.close());
  const Ca = grpcClientConstructor(IstioCertificateService);
  const client = new Ca(srv.address, credentials.createInsecure());
  t.after(() => client.close());

  const err = await new Promise<ServiceError | null>((resolve) =>
    client.createCertificate(create(IstioCertificateRequestSchema, { csr: 'x' }), (e) =>
      resolve(e),
    ),
  );
  assert.equal(err?.code, status.INTERNAL);
  assert.match(
    err.details,
    /cannot decode istio\.v1\.auth\.IstioCertificateResponse: premature EOF/,
  );
});
