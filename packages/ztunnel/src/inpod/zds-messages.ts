// ZDS packets decoded into typed requests, with a reason for anything malformed (pure apart from
// protobuf decoding). ztunnel answers a malformed packet with an error ack and keeps going.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Result } from '@trellis/core';
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

/** Longest uid and names accepted (a pod uid is 36 characters; Kubernetes names at most 253). */
const MAX_UID = 256;
const MAX_NAME = 253;

/** What is wrong with an identifier from the agent, if anything; its text is quoted in acks and logs. */
function textProblem(
  what: string,
  value: string,
  max: number,
  required: boolean,
): string | undefined {
  if (required && value === '') return `${what} is empty`;
  if (value.length > max) return `${what} is ${value.length} characters long (at most ${max})`;
  return undefined;
}

/**
 * Decodes one packet. `fds` are the descriptors that came with it; on success an `add` owns its
 * single fd, and in every other case the caller must close all of them.
 */
export function decodeWorkloadRequest(
  data: Uint8Array,
  fds: readonly number[],
): Result<ZdsRequest> {
  let message;
  try {
    message = fromBinary(WorkloadRequestSchema, data);
  } catch (err) {
    return { ok: false, reason: `not a WorkloadRequest: ${(err as Error).message}` };
  }
  const payload = message.payload;
  const noFds = (r: ZdsRequest): Result<ZdsRequest> =>
    fds.length === 0
      ? { ok: true, value: r }
      : { ok: false, reason: `${r.kind} must not carry file descriptors, got ${fds.length}` };
  switch (payload.case) {
    case 'add': {
      const { uid, workloadInfo } = payload.value;
      const bad =
        textProblem('uid', uid, MAX_UID, true) ??
        textProblem('workload_info.name', workloadInfo?.name ?? '', MAX_NAME, false) ??
        textProblem('workload_info.namespace', workloadInfo?.namespace ?? '', MAX_NAME, false) ??
        textProblem(
          'workload_info.service_account',
          workloadInfo?.serviceAccount ?? '',
          MAX_NAME,
          false,
        );
      if (bad) return { ok: false, reason: `add: ${bad}` };
      if (fds.length !== 1)
        return {
          ok: false,
          reason: `add ${uid}: expected exactly one netns fd, got ${fds.length}`,
        };
      return {
        ok: true,
        value: {
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
    case 'del': {
      const bad = textProblem('uid', payload.value.uid, MAX_UID, true);
      if (bad) return { ok: false, reason: `${payload.case}: ${bad}` };
      return noFds({ kind: payload.case, uid: payload.value.uid });
    }
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
