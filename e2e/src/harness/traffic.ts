// Traffic for the suites: curl run in a client pod with kubectl exec, and a packet capture on a
// node's link (local clusters: the host end of the node's veth) to see what crosses the wire.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { layoutOf, type Kubectl } from '@trellis/local-cluster';

export interface CurlResult {
  /** curl's exit code: 0 an HTTP answer came, 7 refused, 28 timed out, 52/56 reset/empty. */
  readonly exit: number;
  readonly httpCode: number;
  readonly body: string;
}

/** The first Running pod of a Deployment-owned app label in a namespace. */
export function podOf(kubectl: Kubectl, namespace: string, app: string): string {
  const pods = kubectl
    .getJson('pods', '-n', namespace, '-l', `app=${app}`)
    .items.filter(
      (p: { status: { phase: string }; metadata: { deletionTimestamp?: string } }) =>
        p.status.phase === 'Running' && !p.metadata.deletionTimestamp,
    );
  if (pods.length === 0) throw new Error(`no running pod app=${app} in ${namespace}`);
  return pods[0].metadata.name;
}

/** curl URL from inside a pod; never throws on HTTP or connection failure (see exit). */
export function curlFrom(
  kubectl: Kubectl,
  from: { namespace: string; pod: string },
  url: string,
  extra: readonly string[] = [],
): CurlResult {
  const marker = '\n--trellis-http-code:';
  try {
    const out = kubectl.run([
      'exec',
      '-n',
      from.namespace,
      from.pod,
      '--',
      'curl',
      '-sS',
      '--max-time',
      '5',
      '-w',
      `${marker}%{http_code}`,
      ...extra,
      url,
    ]);
    const at = out.lastIndexOf(marker);
    return { exit: 0, httpCode: Number(out.slice(at + marker.length)), body: out.slice(0, at) };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    // kubectl exec passes the command's exit code through.
    return { exit: err.status ?? -1, httpCode: 0, body: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** Captures on a node's link while `during` runs; returns the raw capture and a TLS summary. */
export async function captureOnNodeLink(
  cluster: string,
  nodeIndex: number,
  during: () => Promise<void> | void,
): Promise<{ raw: Buffer; tlsRecords: number; packets: number }> {
  const node = layoutOf(cluster).nodes[nodeIndex - 1];
  if (!node) throw new Error(`cluster ${cluster} has no node ${nodeIndex}`);
  const dir = mkdtempSync(join(tmpdir(), `e2e-capture-${process.pid}-`));
  const file = join(dir, 'link.pcap');
  const tshark = spawn('tshark', ['-q', '-i', node.hostVeth, '-w', file], { stdio: 'ignore' });
  try {
    await sleep(1500); // tshark opens the interface
    await during();
    await sleep(500);
  } finally {
    tshark.kill('SIGINT');
    await new Promise((resolve) => tshark.on('exit', resolve));
  }
  try {
    const raw = readFileSync(file);
    const fields = execFileSync(
      'tshark',
      [
        '-r',
        file,
        '-T',
        'fields',
        '-e',
        'frame.number',
        '-e',
        'tls.record.content_type',
        '-d',
        'tcp.port==15008,tls',
      ],
      {
        encoding: 'utf8',
      },
    );
    const lines = fields.split('\n').filter(Boolean);
    return { raw, packets: lines.length, tlsRecords: lines.filter((l) => l.split('\t')[1]).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
