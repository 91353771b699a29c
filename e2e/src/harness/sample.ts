// The sample (e2e/sample) on a cluster: nodes labelled e2e.trellis.dev/slot=1..N (the sample pins
// echo-v1 and the clients to slot 1, echo-v2 to slot 2), then applied and waited for.
import { join } from 'node:path';
import type { Kubectl } from '@trellis/local-cluster';
import { REPO } from './suite.js';

/** Labels the nodes by name order; returns their names. Throws when there are fewer than 2. */
export function labelNodeSlots(kubectl: Kubectl): string[] {
  const nodes: string[] = kubectl
    .getJson('nodes')
    .items.map((n: { metadata: { name: string } }) => n.metadata.name)
    .sort();
  if (nodes.length < 2)
    throw new Error(`the sample needs 2 nodes, the cluster has ${nodes.length}`);
  nodes.forEach((n, i) =>
    kubectl.run(['label', 'node', n, `e2e.trellis.dev/slot=${i + 1}`, '--overwrite']),
  );
  return nodes;
}

/** Applies the sample and waits until every Deployment in it is Available. */
export function deploySample(kubectl: Kubectl): void {
  kubectl.run(['apply', '-f', join(REPO, 'e2e/sample')]);
  for (const ns of ['e2e-mesh', 'e2e-plain'])
    kubectl.run([
      'wait',
      '-n',
      ns,
      '--for=condition=Available',
      '--timeout=180s',
      'deployment',
      '--all',
    ]);
}

/** Istio's echo app as the scenarios run it (on a local cluster, packages/echo). */
export const ISTIO_ECHO_IMAGE = 'registry.k8s.io/gateway-api/echo-advanced:v1.5.1';

/** A one-replica Deployment of `container` on the node labelled slot `slot`, its pods labelled
 * `labels` (also the selector), run as `serviceAccount`, stopped within a second. */
export function slotDeployment(o: {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  serviceAccount: string;
  slot: number;
  container: Record<string, unknown>;
  volumes?: readonly Record<string, unknown>[];
}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: o.name, namespace: o.namespace },
    spec: {
      selector: { matchLabels: o.labels },
      template: {
        metadata: { labels: o.labels },
        spec: {
          serviceAccountName: o.serviceAccount,
          terminationGracePeriodSeconds: 1,
          nodeSelector: { 'e2e.trellis.dev/slot': String(o.slot) },
          containers: [o.container],
          ...(o.volumes ? { volumes: o.volumes } : {}),
        },
      },
    },
  };
}
