// The agent's metrics, with Istio's CNI names where it has one (istio_cni_installs_total,
// istio_cni_install_ready, istio_cni_plugin_requests_total, nodeagent_reconcile_events_total,
// ztunnel_connected), plus the enrolled-pod count and rule failures Istio has no name for.
import type { Counter, Meter } from '@opentelemetry/api';

export interface AgentMetrics {
  installs: Counter;
  pluginRequests: Counter;
  reconcileEvents: Counter;
  ruleFailures: Counter;
  /** Wires the gauges to their sources. */
  observe(sources: {
    installReady(): number;
    ztunnelConnections(): number;
    podsEnrolled(): number;
  }): void;
}

export function createAgentMetrics(meter: Meter): AgentMetrics {
  const installReady = meter.createObservableGauge('istio_cni_install_ready', {
    description: 'Whether the CNI plugin installation is ready or not',
  });
  const ztunnelConnected = meter.createObservableGauge('ztunnel_connected', {
    description: 'Number of ztunnel connections that received their snapshot',
  });
  const enrolled = meter.createObservableGauge('trellis_cni_pods_enrolled', {
    description: 'Pods on this node whose traffic is redirected into ztunnel',
  });
  return {
    installs: meter.createCounter('istio_cni_installs_total', {
      description: 'Installs of the CNI plugin into the node, by result',
    }),
    pluginRequests: meter.createCounter('istio_cni_plugin_requests_total', {
      description: 'CNI plugin requests handled by the node agent, by response_code',
    }),
    reconcileEvents: meter.createCounter('nodeagent_reconcile_events_total', {
      description: 'Pod and namespace events the node agent reconciled, by type',
    }),
    ruleFailures: meter.createCounter('trellis_cni_rule_failures_total', {
      description: 'Failures to set up or tear down a pod redirection, by operation',
    }),
    observe(s) {
      installReady.addCallback((r) => r.observe(s.installReady()));
      ztunnelConnected.addCallback((r) => r.observe(s.ztunnelConnections()));
      enrolled.addCallback((r) => r.observe(s.podsEnrolled()));
    },
  };
}
