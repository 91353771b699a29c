// Pod status as the kubelet reports it, computed from the emulator's view of its containers.
import type { ContainerStatus, PodCondition, PodStatus } from './pod-spec.js';

export interface ContainerState {
  name: string;
  image: string;
  running: boolean;
  startedAt?: string;
  ready: boolean;
  /** False until a startupProbe succeeds (true without one). */
  started?: boolean;
  restartCount: number;
  exitCode?: number;
  finishedAt?: string;
  reason?: string;
  lastTermination?: { exitCode: number; finishedAt: string; startedAt?: string; reason: string };
  waitingReason?: string;
  pid?: number;
}

export interface PodView {
  podIP?: string;
  hostIP: string;
  startTime: string;
  initialized: boolean;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  containers: ContainerState[];
  message?: string;
}

export function renderContainerStatus(c: ContainerState): ContainerStatus {
  const state: ContainerStatus['state'] = c.running
    ? { running: { startedAt: c.startedAt } }
    : c.exitCode !== undefined
      ? {
          terminated: {
            exitCode: c.exitCode,
            reason: c.reason ?? (c.exitCode === 0 ? 'Completed' : 'Error'),
            startedAt: c.startedAt,
            finishedAt: c.finishedAt,
          },
        }
      : { waiting: { reason: c.waitingReason ?? 'ContainerCreating' } };
  return {
    name: c.name,
    image: c.image,
    imageID: `trellis-local://${c.image}`,
    ...(c.pid ? { containerID: `trellis://${c.pid}` } : {}),
    ready: c.ready,
    started: c.running && c.started !== false,
    restartCount: c.restartCount,
    state,
    lastState: c.lastTermination ? { terminated: c.lastTermination } : {},
  };
}

export function renderPodStatus(
  v: PodView,
  now: string,
  previous: PodStatus | undefined,
): PodStatus {
  const allReady = v.containers.length > 0 && v.containers.every((c) => c.ready);
  const cond = (type: string, ok: boolean): PodCondition => {
    const prev = (previous?.conditions ?? []).find((c) => c.type === type);
    const status = ok ? 'True' : 'False';
    return {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now,
    };
  };
  return {
    phase: v.phase,
    hostIP: v.hostIP,
    hostIPs: [{ ip: v.hostIP }],
    ...(v.podIP ? { podIP: v.podIP, podIPs: [{ ip: v.podIP }] } : {}),
    startTime: v.startTime,
    ...(v.message ? { message: v.message } : {}),
    conditions: [
      cond('PodReadyToStartContainers', v.podIP !== undefined),
      cond('Initialized', v.initialized),
      cond('ContainersReady', allReady),
      cond('Ready', allReady),
      cond('PodScheduled', true),
    ],
    containerStatuses: v.containers.map(renderContainerStatus),
  };
}

/** Whether a container that exited with `code` is restarted under the pod's restartPolicy. */
export function shouldRestart(policy: string | undefined, code: number): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure') return code !== 0;
  return true;
}

/** Phase once no container runs and none will restart. */
export function terminalPhase(codes: number[]): 'Succeeded' | 'Failed' {
  return codes.every((c) => c === 0) ? 'Succeeded' : 'Failed';
}

/** Crash-loop back-off before restart number n (1-based): 1 s doubling, capped at 60 s. */
export function restartBackoffMs(n: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, n - 1));
}
