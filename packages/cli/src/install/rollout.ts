// Waits for Deployments and DaemonSets to finish rolling out, printing progress as it changes
// (with the seconds since the wait began); when nothing has changed for STALL_MS, which pods are
// not Ready and why; on timeout, the error says the same with each pod's last log lines.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kube } from '../kube/kube.js';
import { refOf, type KubeObject } from '../kube/objects.pure.js';
import { podHasRun, podProblem, selectorOf, workloadProgress } from './rollout-status.pure.js';

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
  readonly pollMs?: number;
}

const MAX_PODS_SHOWN = 3;
/** No progress for this long: say which pods hold the wait up (and again after as long). */
const STALL_MS = 15_000;

export async function waitForRollouts(
  kube: Kube,
  workloads: readonly KubeObject[],
  o: WaitOptions,
): Promise<void> {
  const started = Date.now();
  const deadline = started + o.timeoutMs;
  const last = new Map<string, string>();
  let pending = [...workloads];
  let changed = started;
  for (;;) {
    const still: KubeObject[] = [];
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    for (const w of pending) {
      const live = await kube.get(refOf(w));
      if (!live) {
        still.push(w);
        continue;
      }
      const p = workloadProgress(live);
      if (last.get(p.name) !== p.summary) {
        last.set(p.name, p.summary);
        changed = Date.now();
        o.log(`  ${p.name}: ${p.summary} (${seconds}s)`);
      }
      if (!p.done) still.push(live);
    }
    pending = still;
    if (pending.length === 0) return;
    if (Date.now() >= deadline) {
      const head = `timed out after ${Math.round(o.timeoutMs / 1000)}s waiting for:`;
      throw new Error(await waitReport(kube, pending, head, { logs: true }));
    }
    if (Date.now() - changed >= STALL_MS) {
      changed = Date.now();
      o.log(await waitReport(kube, pending, `Still waiting after ${seconds}s for:`));
    }
    await sleep(o.pollMs ?? 1000);
  }
}

/** Each pending workload and, for each of its pods that is not Ready, why (with logs: its last lines). */
async function waitReport(
  kube: Kube,
  pending: readonly KubeObject[],
  head: string,
  o: { logs?: boolean } = {},
): Promise<string> {
  const lines = [head];
  for (const w of pending) {
    const p = w.status ? workloadProgress(w) : undefined;
    const ref = refOf(w);
    lines.push(
      `  ${p?.name ?? `${ref.kind} ${ref.namespace}/${ref.name}`}: ${p?.summary ?? 'not found'}`,
    );
    const pods = await kube
      .list('v1', 'Pod', { namespace: ref.namespace, labelSelector: selectorOf(w) })
      .catch(() => []);
    const notReady = pods.filter(
      (pod) =>
        !(pod.status?.conditions ?? []).some(
          (c: KubeObject) => c.type === 'Ready' && c.status === 'True',
        ),
    );
    for (const [i, pod] of notReady.entries()) {
      if (i === MAX_PODS_SHOWN) {
        lines.push(`    ... and ${notReady.length - i} more pod(s) not Ready`);
        break;
      }
      const events = await kube
        .list('v1', 'Event', {
          namespace: ref.namespace,
          fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod.metadata.name}`,
        })
        .catch(() => []);
      lines.push(`    ${podProblem(pod, events)}`);
      if (o.logs && podHasRun(pod)) {
        const logs = await lastLogLines(kube, pod);
        for (const l of logs) lines.push(`      | ${l.length > 240 ? `${l.slice(0, 237)}...` : l}`);
      }
    }
    if (pods.length === 0 && p && p.desired > 0)
      lines.push('    no pods were created (see kubectl describe)');
  }
  if (!o.logs) return lines.join('\n');
  lines.push(
    `Look closer with: kubectl -n ${pending[0]?.metadata?.namespace ?? 'trellis-system'} describe pods; trellis install is safe to run again.`,
  );
  return lines.join('\n');
}

/** Log lines that say something: not blank, not a lone brace, not a stack frame or Node's banner. */
function telling(text: string): string[] {
  return text.split('\n').filter((l) => !/^\s*$|^\s*[{}[\]]\s*$|^\s+at |^Node\.js v/.test(l));
}

async function lastLogLines(kube: Kube, pod: KubeObject): Promise<string[]> {
  const c = (pod.status?.containerStatuses ?? []).find((s: KubeObject) => !s.ready);
  if (!c) return [];
  const base = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/log?container=${c.name}&tailLines=40`;
  for (const previous of [true, false]) {
    const { status, text } = await kube
      .request('GET', `${base}${previous ? '&previous=true' : ''}`, {
        accept: '*/*',
        timeoutMs: 5000,
      })
      .catch(() => ({ status: 0, text: '' }));
    if (status === 200 && text.trim()) return telling(text).slice(-3);
  }
  return [];
}
