// Resident memory of the mesh on a local cluster: every process of every pod in trellis-system
// (the node emulator reports container IDs as trellis://<pid>), with its children.
import { descendants, rssBytes, type Kubectl } from '@trellis/local-cluster';

export function meshMemory(kubectl: Kubectl): string {
  const byComponent = new Map<string, number>();
  let total = 0;
  for (const pod of kubectl.getJson('pods', '-n', 'trellis-system').items) {
    const component = pod.metadata.labels?.['app.kubernetes.io/component'] ?? pod.metadata.name;
    for (const c of pod.status?.containerStatuses ?? []) {
      const pid = Number(/^trellis:\/\/(\d+)$/.exec(c.containerID ?? '')?.[1]);
      if (!pid) continue;
      const rss = [pid, ...descendants(pid)].reduce((sum, p) => sum + rssBytes(p), 0);
      total += rss;
      byComponent.set(component, (byComponent.get(component) ?? 0) + rss);
    }
  }
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  return `${mib(total)} (${[...byComponent].map(([c, b]) => `${c} ${mib(b)}`).join(', ') || 'no running containers'})`;
}
