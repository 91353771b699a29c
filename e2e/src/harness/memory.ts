// Resident memory of the mesh on a local cluster: every process of every pod in trellis-system
// (the node emulator reports container IDs as trellis://<pid>), with its children. The total's
// anonymous part is what the processes hold of their own; the rest is file pages (the node
// binary) that each process counts again.
import { anonBytes, descendants, rssBytes, type Kubectl } from '@trellis/local-cluster';

export function meshMemory(kubectl: Kubectl): string {
  const parts: string[] = [];
  let total = 0;
  let anon = 0;
  const pods = kubectl.getJson('pods', '-n', 'trellis-system').items;
  for (const pod of pods) {
    const component = pod.metadata.labels?.['app.kubernetes.io/component'] ?? pod.metadata.name;
    let rss = 0;
    for (const c of pod.status?.containerStatuses ?? []) {
      const pid = Number(/^trellis:\/\/(\d+)$/.exec(c.containerID ?? '')?.[1]);
      if (!pid) continue;
      for (const p of [pid, ...descendants(pid)]) {
        rss += rssBytes(p);
        anon += anonBytes(p);
      }
    }
    total += rss;
    parts.push(`${component}@${pod.spec.nodeName} ${mib(rss)}`);
  }
  return `${mib(total)}, anonymous ${mib(anon)} (${parts.sort().join(', ') || 'no running containers'})`;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
