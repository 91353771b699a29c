// `trellis ztunnel-config workloads|services|policies|certificates|connections`: one ztunnel's
// view, from its admin /config_dump (localhost:15000 in the ztunnel pod, by port-forward) or its
// metrics on 15020 (through the API server's pod proxy). --admin-address reads a ztunnel reachable
// directly instead (one run outside a cluster).
import { EXIT } from '../cli/command-spec.js';
import type { Kube } from '../kube/kube.js';
import type { KubeObject } from '../kube/objects.pure.js';
import { httpGetText } from '../kube/http-get.js';
import { portForwardGet } from '../kube/port-forward.js';
import { NAMESPACE } from '../manifests/render.pure.js';
import {
  certificateRows,
  connectionRows,
  parseConfigDump,
  parsePrometheus,
  policyRows,
  serviceRows,
  workloadRows,
} from '../mesh/ztunnel-config.pure.js';
import { age, render } from '../output/format.pure.js';
import type { Context, Handler } from './context.js';

const ADMIN_PORT = 15000;
const METRICS_PORT = 15020;

export const ztunnelConfig: Handler = async (ctx) => {
  const view = ctx.inv.path[1]!;
  const ns = ctx.flag<string | undefined>('namespace');
  const fetch = await source(ctx);
  ctx.log(`ztunnel ${fetch.name}`);
  if (view === 'connections') {
    const rows = connectionRows(
      parsePrometheus(await fetch.get(METRICS_PORT, '/stats/prometheus')),
    );
    ctx.out(
      render(
        ctx.output(),
        rows,
        rows,
        [
          { header: 'reporter', value: (r) => r.reporter },
          { header: 'source', value: (r) => r.source },
          { header: 'destination', value: (r) => r.destination },
          { header: 'open', value: (r) => r.open },
          { header: 'opened', value: (r) => r.opened },
          { header: 'sent', value: (r) => r.sentBytes },
          { header: 'received', value: (r) => r.receivedBytes },
        ],
        'no connections recorded\n',
      ),
    );
    return EXIT.ok;
  }
  const dump = parseConfigDump(
    await fetch.get(ADMIN_PORT, '/config_dump'),
    `ztunnel ${fetch.name}`,
  );
  switch (view) {
    case 'workloads': {
      const rows = workloadRows(dump, ns);
      ctx.out(
        render(
          ctx.output(),
          rows,
          rows,
          [
            { header: 'namespace', value: (r) => r.namespace },
            { header: 'name', value: (r) => r.name },
            { header: 'address', value: (r) => r.address },
            { header: 'node', value: (r) => r.node },
            { header: 'waypoint', value: (r) => r.waypoint },
            { header: 'protocol', value: (r) => r.protocol },
          ],
          'no workloads\n',
        ),
      );
      break;
    }
    case 'services': {
      const rows = serviceRows(dump, ns);
      ctx.out(
        render(
          ctx.output(),
          rows,
          rows,
          [
            { header: 'namespace', value: (r) => r.namespace },
            { header: 'name', value: (r) => r.name },
            { header: 'vips', value: (r) => r.vips },
            { header: 'ports', value: (r) => r.ports },
            { header: 'endpoints', value: (r) => r.endpoints },
            { header: 'waypoint', value: (r) => r.waypoint },
          ],
          'no services\n',
        ),
      );
      break;
    }
    case 'policies': {
      const rows = policyRows(dump, ns);
      ctx.out(
        render(
          ctx.output(),
          rows,
          rows,
          [
            { header: 'namespace', value: (r) => r.namespace },
            { header: 'name', value: (r) => r.name },
            { header: 'scope', value: (r) => r.scope },
            { header: 'action', value: (r) => r.action },
            { header: 'rules', value: (r) => r.rules },
          ],
          'no policies\n',
        ),
      );
      break;
    }
    case 'certificates': {
      const rows = certificateRows(dump);
      ctx.out(
        render(
          ctx.output(),
          rows,
          rows,
          [
            { header: 'identity', value: (r) => r.identity },
            { header: 'state', value: (r) => r.state },
            { header: 'serial', value: (r) => r.serial },
            { header: 'expires in', value: (r) => age(r.expiresInSeconds) },
          ],
          'no certificates yet (they are fetched when a pod of an identity first needs one)\n',
        ),
      );
      break;
    }
  }
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
        ? portForwardGet(kube, NAMESPACE, pod.metadata.name, port, path)
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
      return httpGetText(at.host, at.port, path).catch((e: Error) => {
        throw new Error(`ztunnel at ${at.host}:${at.port}: ${e.message}`);
      });
    },
  };
}
