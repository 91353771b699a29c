// Field numbers of istio.workload.zds messages, checked against hand-encoded bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  Version,
  WorkloadRequestSchema,
  WorkloadResponseSchema,
  ZdsHelloSchema,
} from './gen/istio/workload/zds/zds_pb.js';
import { bytes, lenField, str } from './test-support/wire.js';

test('ZdsHello{version: V1} is the two bytes 08 01', () => {
  assert.deepEqual(
    [...toBinary(ZdsHelloSchema, create(ZdsHelloSchema, { version: Version.V1 }))],
    [0x08, 0x01],
  );
  assert.equal(fromBinary(ZdsHelloSchema, bytes([0x08, 0x01])).version, Version.V1);
});

test('WorkloadRequest.add=1: AddWorkload{uid=1, workload_info=2{name=1, namespace=2, service_account=3}}', () => {
  const info = [...str(1, 'web-0'), ...str(2, 'prod'), ...str(3, 'web')];
  const req = fromBinary(
    WorkloadRequestSchema,
    bytes(lenField(1, [...str(1, 'pod-uid-1'), ...lenField(2, info)])),
  );
  assert.equal(req.payload.case, 'add');
  assert.equal(req.payload.value.uid, 'pod-uid-1');
  assert.equal(req.payload.value.workloadInfo?.name, 'web-0');
  assert.equal(req.payload.value.workloadInfo.namespace, 'prod');
  assert.equal(req.payload.value.workloadInfo.serviceAccount, 'web');
});

test('WorkloadRequest: del=2 (DelWorkload.uid=2), snapshot_sent=3, keep=5 (KeepWorkload.uid=1)', () => {
  const del = fromBinary(WorkloadRequestSchema, bytes(lenField(2, str(2, 'gone'))));
  assert.equal(del.payload.case, 'del');
  assert.equal(del.payload.value.uid, 'gone');

  const snap = fromBinary(WorkloadRequestSchema, bytes(lenField(3, [])));
  assert.equal(snap.payload.case, 'snapshotSent');

  const keep = fromBinary(WorkloadRequestSchema, bytes(lenField(5, str(1, 'kept'))));
  assert.equal(keep.payload.case, 'keep');
  assert.equal(keep.payload.value.uid, 'kept');
});

test('WorkloadResponse.ack=1 carries Ack.error=1', () => {
  const res = create(WorkloadResponseSchema, {
    payload: { case: 'ack', value: { error: 'no netns' } },
  });
  assert.deepEqual([...toBinary(WorkloadResponseSchema, res)], lenField(1, str(1, 'no netns')));
});
