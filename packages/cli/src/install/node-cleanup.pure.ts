// The node cleanup DaemonSet uninstall runs after the CNI agent is gone: the same image, mounts and
// settings as the agent, started as `trellis-cni-agent uninstall`. On each node it removes the
// Trellis entry from the CNI config, the plugin binary, the in-pod rules of every pod it had
// redirected and their ambient.istio.io/redirection annotation, then reports Ready (its readiness
// probe is the agent's). Pure: the agent's DaemonSet in, the cleanup DaemonSet out.
import type { KubeObject } from '../kube/objects.pure.js';

export const CLEANUP_NAME = 'trellis-cni-uninstall';
export const CNI_AGENT_NAME = 'trellis-cni-node';

export function nodeCleanupDaemonSet(agent: KubeObject): KubeObject {
  const tpl = structuredClone(agent.spec.template);
  const labels = {
    ...tpl.metadata.labels,
    app: CLEANUP_NAME,
    'app.kubernetes.io/name': CLEANUP_NAME,
  };
  tpl.metadata.labels = labels;
  const c = tpl.spec.containers[0];
  c.args = ['uninstall'];
  // Cleanup must not be restarted half-way by a liveness probe.
  delete c.livenessProbe;
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: CLEANUP_NAME,
      namespace: agent.metadata.namespace,
      labels: {
        ...agent.metadata.labels,
        app: CLEANUP_NAME,
        'app.kubernetes.io/name': CLEANUP_NAME,
      },
    },
    spec: {
      selector: { matchLabels: { app: CLEANUP_NAME } },
      template: tpl,
    },
  };
}
