import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  renderPodStatus,
  restartBackoffMs,
  shouldRestart,
  terminalPhase,
} from './pod-status.pure.js';

test('a running pod with all containers ready reports Ready and its IP; restart counts carry over', () => {
  const s = renderPodStatus(
    {
      podIP: '10.240.0.7',
      hostIP: '172.28.0.11',
      startTime: 't0',
      initialized: true,
      phase: 'Running',
      containers: [
        {
          name: 'app',
          image: 'trellis/echo:dev',
          running: true,
          startedAt: 't1',
          ready: true,
          restartCount: 2,
          pid: 42,
          lastTermination: { exitCode: 1, finishedAt: 't', reason: 'Error' },
        },
      ],
    },
    'now',
    undefined,
  );
  assert.equal(s.podIP, '10.240.0.7');
  assert.equal(s.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  assert.equal(s.containerStatuses?.[0]?.restartCount, 2);
  assert.deepEqual(s.containerStatuses?.[0]?.state, { running: { startedAt: 't1' } });
  assert.equal(s.containerStatuses?.[0]?.lastState.terminated?.exitCode, 1);
});

test('condition transition times only move when the status changes', () => {
  const view = {
    hostIP: 'h',
    startTime: 't0',
    initialized: true,
    phase: 'Running' as const,
    containers: [{ name: 'a', image: 'i', running: true, ready: false, restartCount: 0 }],
  };
  const first = renderPodStatus(view, 'T1', undefined);
  const second = renderPodStatus(view, 'T2', first);
  assert.equal(second.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime, 'T1');
  const third = renderPodStatus(
    { ...view, containers: [{ ...view.containers[0]!, ready: true }] },
    'T3',
    second,
  );
  assert.equal(third.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime, 'T3');
});

test('restart policy, terminal phase and back-off', () => {
  assert.equal(shouldRestart(undefined, 0), true);
  assert.equal(shouldRestart('OnFailure', 0), false);
  assert.equal(shouldRestart('OnFailure', 2), true);
  assert.equal(shouldRestart('Never', 2), false);
  assert.equal(terminalPhase([0, 0]), 'Succeeded');
  assert.equal(terminalPhase([0, 1]), 'Failed');
  assert.deepEqual([1, 2, 3, 10].map(restartBackoffMs), [1000, 2000, 4000, 60000]);
});
