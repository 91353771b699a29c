// ztunnel's access log as the suites and the demo read it: one JSON line per connection
// (msg "connection complete", see packages/ztunnel/src/access-log), from `kubectl logs` of the
// ztunnel on a node.
import type { Kubectl } from '@trellis/local-cluster';

export interface AccessRecord {
  readonly direction: 'inbound' | 'outbound';
  readonly protocol: 'hbone' | 'tcp';
  readonly src: string;
  readonly dst: string;
  readonly srcIdentity?: string;
  /** `<namespace>/<pod>` of the source, when the ztunnel knows it. */
  readonly srcWorkload?: string;
  readonly dstWorkload?: string;
  readonly decision: 'allow' | 'deny' | 'error';
  readonly policy?: string;
  readonly reason?: string;
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

/** The running ztunnel pod on a node. */
export function ztunnelOnNode(kubectl: Kubectl, node: string): string {
  const pod = kubectl
    .getJson('pods', '-n', 'trellis-system', '-l', 'app=ztunnel')
    .items.find(
      (p: { spec: { nodeName: string }; metadata: { deletionTimestamp?: string } }) =>
        p.spec.nodeName === node && !p.metadata.deletionTimestamp,
    );
  if (!pod) throw new Error(`no ztunnel runs on node ${node}`);
  return pod.metadata.name;
}

/** The access-log records in the last `tail` log lines of the ztunnel on `node`. */
export function accessLog(kubectl: Kubectl, node: string, tail = 500): AccessRecord[] {
  const logs = kubectl.run([
    'logs',
    '-n',
    'trellis-system',
    ztunnelOnNode(kubectl, node),
    '--tail',
    String(tail),
  ]);
  const records: AccessRecord[] = [];
  for (const line of logs.split('\n')) {
    if (!line.includes('"connection complete"')) continue;
    try {
      records.push(JSON.parse(line) as AccessRecord);
    } catch {
      // a line cut by --tail or interleaved output: not a record
    }
  }
  return records;
}

/** One record as a line for people: direction, protocol, who, to what, the decision. */
export function describeRecord(r: AccessRecord): string {
  const who = r.srcIdentity ?? `${r.src} (no identity: plaintext)`;
  const why = r.decision === 'allow' ? '' : ` (${r.policy ?? r.reason ?? ''})`;
  return `${r.direction} ${r.protocol === 'hbone' ? 'HBONE/mTLS' : 'plaintext TCP'} from ${who} to ${r.dstWorkload ?? r.dst}: ${r.decision}${why}`;
}
