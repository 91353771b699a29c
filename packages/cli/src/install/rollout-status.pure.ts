// How far a Deployment or DaemonSet rollout has come, and why a pod is not Ready, in words a
// user can act on. Pure: objects in, text out.
import type { KubeObject } from '../kube/objects.pure.js';
import { describeRef, refOf } from '../kube/objects.pure.js';

export interface WorkloadProgress {
  readonly name: string;
  readonly desired: number;
  readonly ready: number;
  readonly updated: number;
  readonly done: boolean;
  /** e.g. "1/2 ready, 1/2 updated". */
  readonly summary: string;
}

export function workloadProgress(obj: KubeObject): WorkloadProgress {
  const s = obj.status ?? {};
  const observed = (s.observedGeneration ?? 0) >= (obj.metadata?.generation ?? 0);
  let desired: number, ready: number, updated: number, available: number, total: number;
  if (obj.kind === 'DaemonSet') {
    desired = s.desiredNumberScheduled ?? 0;
    ready = s.numberReady ?? 0;
    updated = s.updatedNumberScheduled ?? 0;
    available = s.numberAvailable ?? 0;
    total = s.currentNumberScheduled ?? 0;
  } else {
    desired = obj.spec?.replicas ?? 1;
    ready = s.readyReplicas ?? 0;
    updated = s.updatedReplicas ?? 0;
    available = s.availableReplicas ?? 0;
    total = s.replicas ?? 0;
  }
  const done =
    observed && updated === desired && ready >= desired && available >= desired && total <= desired;
  const parts = [`${ready}/${desired} ready`];
  if (updated < desired) parts.push(`${updated}/${desired} updated`);
  if (total > desired) parts.push(`${total - desired} old pod(s) pending termination`);
  if (obj.kind === 'DaemonSet' && desired === 0)
    parts.push('no node runs it (check nodeSelector and taints)');
  return {
    name: describeRef(refOf(obj)),
    desired,
    ready,
    updated,
    done,
    summary: parts.join(', '),
  };
}

/** Why a pod is not Ready, from its status and its recent events (newest last). */
export function podProblem(pod: KubeObject, events: readonly KubeObject[] = []): string {
  const s = pod.status ?? {};
  const node = pod.spec?.nodeName ? ` on node ${pod.spec.nodeName}` : '';
  const head = `pod ${pod.metadata?.name}${node}`;
  if (pod.metadata?.deletionTimestamp) return `${head}: terminating`;
  const scheduled = (s.conditions ?? []).find((c: KubeObject) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False')
    return `${head}: not scheduled: ${scheduled.message ?? scheduled.reason ?? 'no reason given'}`;
  const reasons: string[] = [];
  for (const c of [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])]) {
    if (c.ready || c.state?.terminated?.reason === 'Completed') continue;
    const waiting = c.state?.waiting;
    const last = c.lastState?.terminated;
    const lastText = last
      ? `; last exit code ${last.exitCode}${last.reason && last.reason !== 'Error' ? ` (${last.reason})` : ''}${last.message ? `: ${oneLine(last.message)}` : ''}`
      : '';
    const restarts = c.restartCount ? `, ${c.restartCount} restart(s)` : '';
    if (waiting)
      reasons.push(
        `container ${c.name}: ${waiting.reason ?? 'waiting'}${waiting.message ? `: ${oneLine(waiting.message)}` : ''}${restarts}${lastText}`,
      );
    else if (c.state?.running) {
      const probe = [...events]
        .reverse()
        .find((e) => e.reason === 'Unhealthy' && String(e.message ?? '').includes('Readiness'));
      reasons.push(
        `container ${c.name}: running but not ready${probe ? ` (${oneLine(probe.message)})` : ' (readiness probe not passing yet)'}${restarts}${lastText}`,
      );
    } else if (c.state?.terminated)
      reasons.push(
        `container ${c.name}: exited with code ${c.state.terminated.exitCode}${restarts}`,
      );
  }
  if (s.message) reasons.push(oneLine(s.message));
  if (reasons.length === 0) {
    const warning = [...events].reverse().find((e) => e.type === 'Warning');
    reasons.push(
      warning
        ? `${warning.reason}: ${oneLine(warning.message ?? '')}`
        : `phase ${s.phase ?? 'unknown'}`,
    );
  }
  return `${head}: ${reasons.join('; ')}`;
}

/** Whether a pod's containers have run (so their last log lines may say why it is not Ready). */
export function podHasRun(pod: KubeObject): boolean {
  return [...(pod.status?.containerStatuses ?? [])].some(
    (c: KubeObject) => (c.restartCount ?? 0) > 0 || c.state?.terminated || c.state?.running,
  );
}

function oneLine(s: string): string {
  const t = String(s).replace(/\s+/g, ' ').trim();
  return t.length > 300 ? `${t.slice(0, 297)}...` : t;
}

/** The label selector of a workload, as a query string value. */
export function selectorOf(workload: KubeObject): string {
  return Object.entries(workload.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
