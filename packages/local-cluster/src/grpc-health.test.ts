import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { grpcHealthCheck, healthCheckRequest, healthCheckStatus } from './grpc-health.js';

test('HealthCheck messages are framed and parsed as protobuf', () => {
  assert.deepEqual([...healthCheckRequest('db')], [0, 0, 0, 0, 4, 0x0a, 2, 0x64, 0x62]);
  assert.deepEqual([...healthCheckRequest('')], [0, 0, 0, 0, 0]);
  assert.equal(healthCheckStatus(Buffer.from([0, 0, 0, 0, 2, 0x08, 1])), 1);
  assert.equal(healthCheckStatus(Buffer.from([0, 0, 0, 0, 0])), 0);
  assert.equal(healthCheckStatus(Buffer.from([1, 0, 0, 0, 0])), undefined);
});

test('the gRPC probe asks a real grpc-js server and is healthy only on SERVING', async () => {
  const server = new grpc.Server();
  const id = (b: Buffer) => b;
  server.addService(
    {
      Check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: id,
        requestDeserialize: id,
        responseSerialize: id,
        responseDeserialize: id,
      },
    },
    {
      Check: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const service = call.request.length ? call.request.subarray(2).toString() : '';
        if (service === '') cb(null, Buffer.from([0x08, 1]));
        else if (service === 'db') cb(null, Buffer.from([0x08, 2]));
        else cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  try {
    assert.equal(await grpcHealthCheck('127.0.0.1', port, '', 2000), true);
    assert.equal(await grpcHealthCheck('127.0.0.1', port, 'db', 2000), false, 'NOT_SERVING');
    assert.equal(await grpcHealthCheck('127.0.0.1', port, 'nope', 2000), false, 'NOT_FOUND');
  } finally {
    server.forceShutdown();
  }
  assert.equal(await grpcHealthCheck('127.0.0.1', port, '', 2000), false, 'nothing listening');
});
