// ZDS packets decoded into typed requests, with a reason for anything malformed (pure apart from
// protobuf decoding). ztunnel answers a malformed packet with an error ack and keeps going.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  Version,
  WorkloadRequestSchema,
  WorkloadResponseSchema,
  ZdsHelloSchema,
} from '@trellis/api/gen/istio/workload/zds/zds_pb.js';

export interface PodInfo {
  uid: string;
  name: string;
  namespace: string;
  serviceAccount: string;
}

export type ZdsRequest =
  | { kind: 'add'; pod: PodInfo; netnsFd: number }
  | { kind: 'keep'; uid: string }
  | { kind: 'del'; uid: string }
  | { kind: 'snapshot-sent' };

export type DecodedRequest = { ok: true; request: ZdsRequest } | { ok: false; reason: string };

/**
 * Decodes one packet. `fds` are the descriptors that came with it; on success an `add` owns its
 * single fd, and in every other case the caller must close all of them.
 */
export function decodeWorkloadRequest(data: Uint8Array, fds: readonly number[]): DecodedRequest {
  let message;
  try {
    message = fromBinary(WorkloadRequestSchema, data);
  } catch (err) {
    return { ok: false, reason: `not a WorkloadRequest: ${(err as Error).message}` };
  }
  const payload = message.payload;
  const noFds = (r: ZdsRequest): DecodedRequest =>
    fds.length === 0
      ? { ok: true, request: r }
      : { ok: false, reason: `${r.kind} must not carry file descriptors, got ${fds.length}` };
  switch (payload.case) {
    case 'add': {
      const { uid, workloadInfo } = payload.value;
      if (uid === '') return { ok: false, reason: 'add: uid is empty' };
      if (fds.length !== 1)
        return {
          ok: false,
          reason: `add ${uid}: expected exactly one netns fd, got ${fds.length}`,
        };
      return {
        ok: true,
        request: {
          kind: 'add',
          netnsFd: fds[0]!,
          pod: {
            uid,
            name: workloadInfo?.name ?? '',
            namespace: workloadInfo?.namespace ?? '',
            serviceAccount: workloadInfo?.serviceAccount || 'default',
          },
        },
      };
    }
    case 'keep':
      if (payload.value.uid === '') return { ok: false, reason: 'keep: uid is empty' };
      return noFds({ kind: 'keep', uid: payload.value.uid });
    case 'del':
      if (payload.value.uid === '') return { ok: false, reason: 'del: uid is empty' };
      return noFds({ kind: 'del', uid: payload.value.uid });
    case 'snapshotSent':
      return noFds({ kind: 'snapshot-sent' });
    default:
      return { ok: false, reason: 'WorkloadRequest has no known payload' };
  }
}

export function encodeHello(): Uint8Array {
  return toBinary(ZdsHelloSchema, create(ZdsHelloSchema, { version: Version.V1 }));
}

export function encodeAck(error = ''): Uint8Array {
  return toBinary(
    WorkloadResponseSchema,
    create(WorkloadResponseSchema, { payload: { case: 'ack', value: { error } } }),
  );
}
