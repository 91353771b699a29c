// `trellis ztunnel-config workloads|services|policies|certificates|connections`: one ztunnel's
// view, from its admin /config_dump (localhost:15000 in the ztunnel pod, by port-forward) or its
// metrics on 15020 (through the API server's pod proxy). --admin-address reads a ztunnel reachable
// directly instead (one run outside a cluster).
import { EXIT } from '../cli/command-spec.js';
import type { Kube } from '../kube/kube.js';
import type { KubeObject } from '../kube/objects.pure.js';
import { httpText } from '../kube/http-text.js';
import { portForwardText } from '../kube/port-forward.js';
import { NAMESPACE } from '../manifests/render.pure.js';
import { ZTUNNEL_VIEWS } from '../mesh/ztunnel-config.pure.js';
import { render } from '../output/format.pure.js';
import type { Context, Handler } from './context.js';

const ADMIN_PORT = 15000;
const METRICS_PORT = 15020;

export const ztunnelConfig: Handler = async (ctx) => {
  const view = ZTUNNEL_VIEWS[ctx.inv.path[1]!]!;
  const fetch = await source(ctx);
  ctx.log(`ztunnel ${fetch.name}`);
  const rows = view.rows(
    await fetch.get(view.port, view.path),
    `ztunnel ${fetch.name}`,
    ctx.flag<string | undefined>('namespace'),
  );
  ctx.out(render(ctx.output(), rows, rows as never[], view.columns, view.empty));
  return EXIT.ok;
};

interface ZtunnelSource {
  readonly name: string;
  get(port: number, path: string): Promise<string>;
}

async function source(ctx: Context): Promise<ZtunnelSource> {
  const direct = ctx.flag<string | undefined>('admin-address');
  if (direct) return directSource(direct);
  const kube = await ctx.kube();
  const pod = await pickZtunnel(
    kube,
    ctx.flag<string | undefined>('pod'),
    ctx.flag<string | undefined>('node'),
  );
  const name = `${NAMESPACE}/${pod.metadata.name} (node ${pod.spec.nodeName})`;
  return {
    name,
    get: (port, path) =>
      port === ADMIN_PORT
        ? portForwardText(kube, NAMESPACE, pod.metadata.name, port, path)
        : kube.podProxyGet(NAMESPACE, pod.metadata.name, port, path),
  };
}

async function pickZtunnel(
  kube: Kube,
  pod: string | undefined,
  node: string | undefined,
): Promise<KubeObject> {
  const pods = (
    await kube.list('v1', 'Pod', { namespace: NAMESPACE, labelSelector: 'app=ztunnel' })
  ).filter((p) => p.status?.phase === 'Running');
  if (pods.length === 0) throw new Error(`no running ztunnel pod in ${NAMESPACE} (trellis status)`);
  if (pod) {
    const found = pods.find((p) => p.metadata.name === pod);
    if (!found)
      throw new Error(
        `no running ztunnel pod ${pod}; running: ${pods.map((p) => p.metadata.name).join(', ')}`,
      );
    return found;
  }
  if (node) {
    const found = pods.find((p) => p.spec?.nodeName === node);
    if (!found)
      throw new Error(
        `no running ztunnel on node ${node}; nodes with one: ${pods.map((p) => p.spec.nodeName).join(', ')}`,
      );
    return found;
  }
  return pods.sort((a, b) => String(a.spec.nodeName).localeCompare(String(b.spec.nodeName)))[0]!;
}

/** A ztunnel reachable directly: admin at HOST:PORT, metrics at the same host on 15020 unless the port is given as ADMIN,METRICS. */
function directSource(address: string): ZtunnelSource {
  const [admin, metrics] = address.split(',');
  const hostPort = (a: string) => {
    const m = /^(.*):(\d+)$/.exec(a);
    if (!m)
      throw new Error(`--admin-address ${address}: expected HOST:PORT[,HOST:PORT of metrics]`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  };
  const adminAt = hostPort(admin!);
  const metricsAt = metrics ? hostPort(metrics) : { host: adminAt.host, port: METRICS_PORT };
  return {
    name: address,
    get: (port, path) => {
      const at = port === ADMIN_PORT ? adminAt : metricsAt;
      return httpText(at.host, at.port, path).catch((e: Error) => {
        throw new Error(`ztunnel at ${at.host}:${at.port}: ${e.message}`);
      });
    },
  };
}
