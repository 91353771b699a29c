// How ztunnel opens the connection to the app in the destination pod. In-pod (marked 0x539) it
// comes from the client's own IP (IP_TRANSPARENT), so the app sees who called it: the pod's rules
// give the connection mark 0x111, and the app's replies are routed back to ztunnel by
// `fwmark 0x111 lookup 100` (local 0/0 dev lo). In all-workloads mode (no mark) ztunnel's own address.
import { isIP } from 'node:net';
import type { Endpoint } from './redirected.js';

export function appConnectOptions(
  target: Endpoint,
  clientIp: string,
  mark: number | undefined,
): { host: string; port: number; mark?: number; bindIp?: string } {
  const base = { host: target.address, port: target.port };
  if (mark === undefined) return base;
  const sameFamily = isIP(clientIp) !== 0 && isIP(clientIp) === isIP(target.address);
  return { ...base, mark, ...(sameFamily ? { bindIp: clientIp } : {}) };
}
