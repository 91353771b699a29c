// Resident memory of the mesh on a local cluster: every process of every pod in trellis-system
// (the node emulator reports container IDs as trellis://<pid>), with its children.
import { descendants, rssBytes, type Kubectl } from '@trellis/local-cluster';

export function meshMemory(kubectl: Kubectl): string {
  const parts: string[] = [];
  let total = 0;
  const pods = kubectl.getJson('pods', '-n', 'trellis-system').items;
  for (const pod of pods) {
    const component = pod.metadata.labels?.['app.kubernetes.io/component'] ?? pod.metadata.name;
    let rss = 0;
    for (const c of pod.status?.containerStatuses ?? []) {
      const pid = Number(/^trellis:\/\/(\d+)$/.exec(c.containerID ?? '')?.[1]);
      if (pid) rss += [pid, ...descendants(pid)].reduce((sum, p) => sum + rssBytes(p), 0);
    }
    total += rss;
    parts.push(`${component}@${pod.spec.nodeName} ${mib(rss)}`);
  }
  return `${mib(total)} (${parts.sort().join(', ') || 'no running containers'})`;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
