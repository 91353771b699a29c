// Plain TCP to a destination outside the mesh (unknown IP, or a workload that only speaks TCP).
import type net from 'node:net';
import { reset, splice } from '@trellis/hbone';
import type { ConnectionRecord } from '../access-log/connection-record.js';
import type { SocketOps } from './socket-ops.js';

export async function passthrough(
  downstream: net.Socket,
  target: { address: string; port: number },
  ops: SocketOps,
  record: ConnectionRecord,
  mark: number | undefined,
): Promise<void> {
  let upstream: net.Socket;
  try {
    upstream = await ops.connect({
      host: target.address,
      port: target.port,
      ...(mark !== undefined ? { mark } : {}),
    });
  } catch (err) {
    record.failed('CONNECT', (err as Error).message);
    reset(downstream, err as Error);
    return;
  }
  record.opened();
  const { error } = await splice(downstream, upstream);
  record.closed({
    received: downstream.bytesRead,
    sent: downstream.bytesWritten,
    ...(error ? { error } : {}),
  });
}
