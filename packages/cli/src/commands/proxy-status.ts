// `trellis proxy-status`: asks each control plane pod for /debug/syncz (port 15014, through the
// API server's pod proxy) and shows every connected proxy's sync state.
import { EXIT } from '../cli/command-spec.js';
import type { Kube } from '../kube/kube.js';
import type { KubeObject } from '../kube/objects.pure.js';
import { NAMESPACE } from '../manifests/render.pure.js';
import {
  hasProblems,
  proxyStatusRows,
  TYPE_COLUMNS,
  type SynczEntry,
} from '../mesh/proxy-status.pure.js';
import { render } from '../output/format.pure.js';
import type { Handler } from './context.js';

export const DEBUG_PORT = 15014;

export async function controlPlanePods(kube: Kube): Promise<KubeObject[]> {
  const pods = await kube.list('v1', 'Pod', {
    namespace: NAMESPACE,
    labelSelector: 'app=trellis-control-plane',
  });
  const running = pods.filter(
    (p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp,
  );
  if (running.length === 0)
    throw new Error(
      `no running control plane pod in ${NAMESPACE} (is Trellis installed? trellis status)`,
    );
  return running;
}

export const proxyStatus: Handler = async (ctx) => {
  const kube = await ctx.kube();
  const byPod = new Map<string, SynczEntry[]>();
  for (const pod of await controlPlanePods(kube)) {
    const text = await kube.podProxyGet(NAMESPACE, pod.metadata.name, DEBUG_PORT, '/debug/syncz');
    byPod.set(pod.metadata.name, JSON.parse(text) as SynczEntry[]);
  }
  const rows = proxyStatusRows(byPod);
  ctx.out(
    render(
      ctx.output(),
      rows,
      rows,
      [
        { header: 'proxy', value: (r) => r.proxy },
        { header: 'control plane', value: (r) => r.controlPlane },
        ...TYPE_COLUMNS.map((t) => ({
          header: t,
          value: (r: (typeof rows)[number]) => r.types[t] ?? '-',
        })),
      ],
      'no proxies are connected to the control plane\n',
    ),
  );
  for (const r of rows) for (const n of r.nacks) ctx.log(`${r.proxy} rejected ${n}`);
  return hasProblems(rows) ? EXIT.problems : EXIT.ok;
};
