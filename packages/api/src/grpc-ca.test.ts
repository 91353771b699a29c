// A real unary CreateCertificate call over loopback with the typed client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  IstioCertificateRequestSchema,
  IstioCertificateResponseSchema,
  IstioCertificateService,
  type IstioCertificateResponse,
} from './gen/istio/v1/auth/ca_pb.js';
import { grpcClientConstructor } from './grpc-client.js';
import { grpcService, type GrpcServiceImplementation } from './grpc-service.js';
import { startLoopbackServer } from './test-support/loopback.js';

test('CreateCertificate: request fields and headers reach the server, the chain comes back in order', async (t) => {
  const impl: GrpcServiceImplementation<typeof IstioCertificateService> = {
    createCertificate(call, callback) {
      const { csr, validityDuration, metadata } = call.request;
      callback(
        null,
        create(IstioCertificateResponseSchema, {
          certChain: [
            `leaf for ${csr} (${validityDuration}s) as ${String(metadata?.['ImpersonatedIdentity'])}`,
            `auth=${String(call.metadata.get('authorization')[0])} cluster=${String(call.metadata.get('clusterid')[0])}`,
            'root',
          ],
        }),
      );
    },
  };
  const srv = await startLoopbackServer((server) =>
    server.addService(grpcService(IstioCertificateService), impl),
  );
  t.after(() => srv.close());

  const Ca = grpcClientConstructor(IstioCertificateService);
  const client = new Ca(srv.address, credentials.createInsecure());
  t.after(() => client.close());

  const headers = new Metadata();
  headers.set('authorization', 'Bearer token-123');
  headers.set('clusterid', 'Kubernetes');
  const request = create(IstioCertificateRequestSchema, {
    csr: 'CSR-PEM',
    validityDuration: 3600n,
    metadata: { ImpersonatedIdentity: 'spiffe://cluster.local/ns/prod/sa/api' },
  });
  const response = await new Promise<IstioCertificateResponse>((resolve, reject) => {
    client.createCertificate(
      request,
      headers,
      (err: ServiceError | null, res?: IstioCertificateResponse) =>
        err || !res ? reject(err ?? new Error('no response')) : resolve(res),
    );
  });

  assert.deepEqual(response.certChain, [
    'leaf for CSR-PEM (3600s) as spiffe://cluster.local/ns/prod/sa/api',
    'auth=Bearer token-123 cluster=Kubernetes',
    'root',
  ]);
});
