// A proxy's or the control plane's localhost-only admin endpoints, read from inside its pod (the
// images carry node), for failure messages: what the gateway holds for a service's clusters and
// where its xDS stream stands at the control plane.
import type { Kubectl } from '@trellis/local-cluster';

/** GETs each `http://127.0.0.1:<port><path>` inside the pod; the parsed JSON bodies, in order. */
export function adminJson(
  kubectl: Kubectl,
  namespace: string,
  pod: string,
  port: number,
  paths: readonly string[],
): unknown[] {
  const script = `Promise.all(${JSON.stringify(paths)}.map((p) => fetch('http://127.0.0.1:${port}' + p).then((r) => r.json()))).then((b) => console.log(JSON.stringify(b)))`;
  return JSON.parse(kubectl.run(['exec', '-n', namespace, pod, '--', 'node', '-e', script]));
}

interface ClusterView {
  name: string;
}
interface DumpView {
  xds: unknown;
  endpoints: { clusterName: string }[];
}
interface SynczView {
  proxy: string;
  types: Record<string, unknown>;
}

/**
 * The gateway pod's view of the clusters whose names contain `service` (hosts, health, ejections
 * from 15000/clusters; their ClusterLoadAssignments and its xDS status from /config_dump) and the
 * control plane's /debug/syncz entry of that pod's stream, as one line of JSON; never throws.
 */
export function gatewayView(
  kubectl: Kubectl,
  namespace: string,
  pod: string,
  service: string,
): string {
  const view: Record<string, unknown> = {};
  try {
    const [clusters, dump] = adminJson(kubectl, namespace, pod, 15000, [
      '/clusters',
      '/config_dump',
    ]) as [ClusterView[], DumpView];
    view['clusters'] = clusters.filter((c) => c.name.includes(service));
    view['endpoints'] = dump.endpoints.filter((e) => e.clusterName.includes(service));
    view['xds'] = dump.xds;
  } catch (err) {
    view['gatewayAdmin'] = `not read: ${(err as Error).message.split('\n')[0]}`;
  }
  try {
    const cp = kubectl.getJson('pods', '-n', 'trellis-system', '-l', 'app=trellis-control-plane')
      .items[0]?.metadata.name as string;
    const [syncz] = adminJson(kubectl, 'trellis-system', cp, 15014, ['/debug/syncz']) as [
      SynczView[],
    ];
    view['controlPlane'] = syncz.filter((e) => e.proxy.includes(pod));
  } catch (err) {
    view['controlPlane'] = `not read: ${(err as Error).message.split('\n')[0]}`;
  }
  return JSON.stringify(view);
}
