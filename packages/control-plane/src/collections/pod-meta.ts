// Facts read off a Pod: IPs, readiness, owning workload name, canonical service labels, named ports.
import type { Pod } from '../model/kube.js';
import {
  LABEL_CANONICAL_NAME,
  LABEL_CANONICAL_REVISION,
  LABEL_WORKLOAD_NAME,
} from '../model/well-known.js';
import { normalizeIP } from './ip-text.js';
import { labelsOf, nameOf } from './meta.js';

/** Succeeded and Failed pods hold no traffic and their IPs may be reused. */
export function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/**
 * The pod's IPs (`status.podIPs`, else `status.podIP`) in canonical form (`normalizeIP`), and what
 * was wrong with the ones left out (not an IP address; listed twice).
 */
export function podAddresses(pod: Pod): { ips: string[]; problems: string[] } {
  const listed = pod.status?.podIPs?.length
    ? pod.status.podIPs.map((p, i) => [p.ip, `status.podIPs[${i}].ip`] as const)
    : [[pod.status?.podIP, 'status.podIP'] as const];
  const ips: string[] = [];
  const problems: string[] = [];
  for (const [text, field] of listed) {
    if (text === undefined || text === '') continue;
    const ip = normalizeIP(text);
    if (ip === undefined) problems.push(`${field} "${text}" is not an IP address; ignored`);
    else if (!ips.includes(ip)) ips.push(ip);
  }
  return { ips, problems };
}

/** Ready condition True and not being deleted. */
export function isHealthy(pod: Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

const CRONJOB_NAME = /^(.+)-\d{8,10}$/;

/**
 * The name of the workload that owns the pod: the Deployment for a ReplicaSet with a
 * pod-template-hash, the CronJob for a timestamped Job, else the controller, else the pod itself.
 * `service.istio.io/workload-name` overrides all of it.
 */
export function workloadNameOf(pod: Pod): string {
  const labels = labelsOf(pod);
  const override = labels[LABEL_WORKLOAD_NAME];
  if (override) return override;
  if (!pod.metadata?.generateName) return nameOf(pod);
  const controller = (pod.metadata.ownerReferences ?? []).find((r) => r.controller);
  if (!controller?.name) return nameOf(pod);
  const hash = labels['pod-template-hash'];
  if (controller.kind === 'ReplicaSet' && hash && controller.name.endsWith(`-${hash}`)) {
    return controller.name.slice(0, -(hash.length + 1));
  }
  if (controller.kind === 'Job') {
    const m = CRONJOB_NAME.exec(controller.name);
    if (m) return m[1]!;
  }
  return controller.name;
}

export function canonicalNameOf(labels: Record<string, string>, workloadName: string): string {
  return (
    labels[LABEL_CANONICAL_NAME] ??
    labels['app.kubernetes.io/name'] ??
    labels['app'] ??
    workloadName
  );
}

export function canonicalRevisionOf(labels: Record<string, string>): string {
  return (
    labels[LABEL_CANONICAL_REVISION] ??
    labels['app.kubernetes.io/version'] ??
    labels['version'] ??
    'latest'
  );
}

/** A named TCP container port (regular containers, then native sidecars). */
export function containerPortByName(pod: Pod, name: string): number | undefined {
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const c of [...(pod.spec?.containers ?? []), ...sidecars]) {
    for (const p of c.ports ?? []) {
      if (p.name === name && (p.protocol ?? 'TCP') === 'TCP') return p.containerPort;
    }
  }
  return undefined;
}
