import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podProblem, selectorOf, workloadProgress } from './rollout-status.pure.js';

const ds = (status: object, generation = 2) => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'ztunnel', namespace: 'trellis-system', generation },
  spec: { selector: { matchLabels: { app: 'ztunnel', tier: 'node' } } },
  status: { observedGeneration: 2, ...status },
});

test('a DaemonSet is done when every scheduled pod is updated, ready and available', () => {
  const done = workloadProgress(
    ds({
      desiredNumberScheduled: 2,
      numberReady: 2,
      updatedNumberScheduled: 2,
      numberAvailable: 2,
      currentNumberScheduled: 2,
    }),
  );
  assert.deepEqual(
    [done.done, done.summary, done.name],
    [true, '2/2 ready', 'DaemonSet trellis-system/ztunnel'],
  );
  const rolling = workloadProgress(
    ds({
      desiredNumberScheduled: 2,
      numberReady: 2,
      updatedNumberScheduled: 1,
      numberAvailable: 2,
      currentNumberScheduled: 3,
    }),
  );
  assert.deepEqual(
    [rolling.done, rolling.summary],
    [false, '2/2 ready, 1/2 updated, 1 old pod(s) pending termination'],
  );
  const stale = workloadProgress(
    ds(
      {
        desiredNumberScheduled: 1,
        numberReady: 1,
        updatedNumberScheduled: 1,
        numberAvailable: 1,
        currentNumberScheduled: 1,
      },
      3,
    ),
  );
  assert.equal(stale.done, false, 'the controller has not seen the new generation yet');
  assert.match(workloadProgress(ds({ desiredNumberScheduled: 0 })).summary, /no node runs it/);
});

test('a Deployment is done when its replicas are updated, ready and available and no old ones remain', () => {
  const d = (status: object) =>
    workloadProgress({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'cp', namespace: 'ns', generation: 1 },
      spec: { replicas: 2 },
      status: { observedGeneration: 1, ...status },
    });
  assert.equal(
    d({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }).done,
    true,
  );
  assert.equal(
    d({ replicas: 3, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 3 }).done,
    false,
  );
  assert.equal(
    d({ replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 }).summary,
    '1/2 ready',
  );
});

const pod = (status: object, spec: object = { nodeName: 'node1' }) => ({
  metadata: { name: 'ztunnel-abc' },
  spec,
  status,
});

test('why a pod is not Ready: unscheduled, crash looping, waiting, running but failing its probe', () => {
  assert.equal(
    podProblem(
      pod(
        {
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              message: '0/2 nodes are available: 2 Insufficient cpu.',
            },
          ],
        },
        {},
      ),
    ),
    'pod ztunnel-abc: not scheduled: 0/2 nodes are available: 2 Insufficient cpu.',
  );
  assert.equal(
    podProblem(
      pod({
        containerStatuses: [
          {
            name: 'istio-proxy',
            ready: false,
            restartCount: 4,
            state: {
              waiting: {
                reason: 'CrashLoopBackOff',
                message: 'back-off 40s restarting failed container',
              },
            },
            lastState: {
              terminated: { exitCode: 1, reason: 'Error', message: 'xds: cannot resolve istiod' },
            },
          },
        ],
      }),
    ),
    'pod ztunnel-abc on node node1: container istio-proxy: CrashLoopBackOff: back-off 40s restarting failed container, 4 restart(s); last exit code 1: xds: cannot resolve istiod',
  );
  assert.equal(
    podProblem(pod({ containerStatuses: [{ name: 'c', ready: false, state: { running: {} } }] }), [
      { type: 'Normal', reason: 'Started', message: 'started' },
      {
        type: 'Warning',
        reason: 'Unhealthy',
        message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
      },
    ]),
    'pod ztunnel-abc on node node1: container c: running but not ready (Readiness probe failed: HTTP probe failed with statuscode: 503)',
  );
  assert.equal(
    podProblem(
      pod({
        message: 'image "trellis/ztunnel:9" is not in the image map',
        containerStatuses: [
          { name: 'c', ready: false, state: { waiting: { reason: 'CreateContainerConfigError' } } },
        ],
      }),
    ),
    'pod ztunnel-abc on node node1: container c: CreateContainerConfigError; image "trellis/ztunnel:9" is not in the image map',
  );
  assert.equal(
    podProblem(pod({ phase: 'Pending' }), [
      {
        type: 'Warning',
        reason: 'FailedMount',
        message: 'configmap "istio-ca-root-cert" not found',
      },
    ]),
    'pod ztunnel-abc on node node1: FailedMount: configmap "istio-ca-root-cert" not found',
  );
});

test('selectors become label selector query values', () => {
  assert.equal(selectorOf(ds({})), 'app=ztunnel,tier=node');
});
