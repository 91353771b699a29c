// Traffic for the suites: curl run in a client pod with kubectl exec, and a packet capture on a
// node's link (the host end of the node's veth: a netns node's, or a kind node container's) to see
// what crosses the wire.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubeBinDir, run, type Kubectl } from '@trellis/local-cluster';
import { nodeHostLink, type ClusterRef } from './nodes.js';

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

const HTTP_CODE = '\n--trellis-http-code:';

function curlArgs(from: { namespace: string; pod: string }, url: string, extra: readonly string[]) {
  return [
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
    `${HTTP_CODE}%{http_code}`,
    ...extra,
    url,
  ];
}

function curlResult(exit: number, out: string): CurlResult {
  const at = out.lastIndexOf(HTTP_CODE);
  if (exit !== 0 || at < 0) return { exit, httpCode: 0, body: out };
  return { exit, httpCode: Number(out.slice(at + HTTP_CODE.length)), body: out.slice(0, at) };
}

/** curl URL from inside a pod; never throws on HTTP or connection failure (see exit). */
export function curlFrom(
  kubectl: Kubectl,
  from: { namespace: string; pod: string },
  url: string,
  extra: readonly string[] = [],
): CurlResult {
  try {
    return curlResult(0, kubectl.run(curlArgs(from, url, extra)));
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    // kubectl exec passes the command's exit code through.
    return curlResult(err.status ?? -1, `${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/** curlFrom without blocking the event loop (for tests that keep other sessions going meanwhile). */
export async function curlFromAsync(
  kubeconfig: string,
  from: { namespace: string; pod: string },
  url: string,
): Promise<CurlResult> {
  const r = await run(
    `${kubeBinDir()}/kubectl`,
    [`--kubeconfig=${kubeconfig}`, ...curlArgs(from, url, [])],
    {
      allowFailure: true,
    },
  );
  return curlResult(r.code, r.code === 0 ? r.stdout : `${r.stdout}${r.stderr}`);
}

/** Repeats `call` until its outcome is `allowed` (true: HTTP 200) or 15 s pass (config takes a
 * moment to reach the proxies); returns the last result. */
export async function curlUntil(call: () => CurlResult, allowed: boolean): Promise<CurlResult> {
  let r = call();
  for (let i = 0; i < 30 && (r.httpCode === 200) !== allowed; i++) {
    await sleep(500);
    r = call();
  }
  return r;
}

/** Captures on a node's link while `during` runs; returns the raw capture and a TLS summary. */
export async function captureOnNodeLink(
  ref: ClusterRef,
  nodeIndex: number,
  during: () => Promise<void> | void,
): Promise<{ raw: Buffer; tlsRecords: number; packets: number }> {
  const link = nodeHostLink(ref, nodeIndex);
  const dir = mkdtempSync(join(tmpdir(), `e2e-capture-${process.pid}-`));
  const file = join(dir, 'link.pcap');
  const tshark = spawn('tshark', ['-q', '-i', link, '-w', file], { stdio: 'ignore' });
  const exited = new Promise((resolve) => tshark.on('exit', resolve));
  try {
    // Capturing once dumpcap has written the file's header. A SIGINT tshark gets before that,
    // while it starts dumpcap (seconds on a loaded host), is lost and the capture never ends.
    const deadline = Date.now() + 30_000;
    while (!(existsSync(file) && statSync(file).size > 0)) {
      if (tshark.exitCode !== null) throw new Error(`tshark -i ${link} exited ${tshark.exitCode}`);
      if (Date.now() > deadline) throw new Error(`tshark -i ${link} did not start within 30 s`);
      await sleep(100);
    }
    await during();
    await sleep(500);
  } finally {
    // Asked again until it stops (at most 10 times a second apart), then killed.
    for (let i = 0; i < 10 && tshark.exitCode === null && tshark.signalCode === null; i++) {
      tshark.kill('SIGINT');
      await Promise.race([exited, sleep(1000)]);
    }
    if (tshark.exitCode === null && tshark.signalCode === null) tshark.kill('SIGKILL');
    await exited;
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

/**
 * Requests from a pod while `action` runs (e.g. a rolling update): inside `from`, a new connection
 * (and a name lookup) to each of `urls` in turn, every 50 ms, from 2 s before the action until 2 s
 * after it (at most 3 minutes). Resolves with one line per request: `<url> <HTTP code> <curl error>`.
 */
export async function requestsDuring(
  kubeconfig: string,
  kubectl: Kubectl,
  from: { namespace: string; pod: string },
  urls: readonly string[],
  action: () => void | Promise<void>,
): Promise<string[]> {
  const stop = '/tmp/stop-requests';
  const loop = [
    `rm -f ${stop}; i=0`,
    `while [ ! -e ${stop} ] && [ $i -lt 3600 ]; do`,
    `  for u in ${urls.join(' ')}; do`,
    '    echo "$u $(curl -s -o /dev/null -m 3 -w "%{http_code} %{errormsg}" $u)"',
    '  done; i=$((i+1)); sleep 0.05',
    'done',
  ].join('\n');
  const requests = run(
    `${kubeBinDir()}/kubectl`,
    [`--kubeconfig=${kubeconfig}`, 'exec', '-n', from.namespace, from.pod, '--', 'sh', '-c', loop],
    { allowFailure: true },
  );
  try {
    await sleep(2000);
    await action();
    await sleep(2000);
  } finally {
    kubectl.run(['exec', '-n', from.namespace, from.pod, '--', 'touch', stop]);
  }
  return (await requests).stdout.trim().split('\n');
}

/** The lines of requestsDuring whose HTTP code is not 200. */
export const failedRequests = (lines: readonly string[]): string[] =>
  lines.filter((l) => l.split(' ')[1] !== '200');
