// `trellis proxy-config listeners|routes|clusters|endpoints|secret|all|log POD`: what one waypoint
// or ingress gateway holds, read from its admin endpoint (localhost:15000 in its pod, reached by
// port-forward), as istioctl proxy-config shows an Envoy's. POD is NAME, NAME.NAMESPACE,
// deploy/NAME or gateway/NAME (a pod of that Gateway; -n: the namespace); --admin-address reads
// a proxy reachable directly instead.
import { EXIT, UsageError } from '../cli/command-spec.js';
import type { Kube } from '../kube/kube.js';
import type { KubeObject } from '../kube/objects.pure.js';
import { httpText } from '../kube/http-text.js';
import { portForwardText } from '../kube/port-forward.js';
import { PROXY_VIEWS, parseProxyConfigDump } from '../mesh/proxy-config.pure.js';
import { render, table } from '../output/format.pure.js';
import type { Context, Handler } from './context.js';

const ADMIN_PORT = 15000;
const GATEWAY_NAME = 'gateway.networking.k8s.io/gateway-name';
const SECTIONS = ['listeners', 'routes', 'clusters', 'endpoints', 'secret'] as const;

interface AdminSource {
  readonly name: string;
  request(path: string, method?: 'GET' | 'POST'): Promise<string>;
}

export const proxyConfig: Handler = async (ctx) => {
  const what = ctx.inv.path[1]!;
  const admin = await source(ctx);
  ctx.log(admin.name);
  if (what === 'log') return logLevels(ctx, admin);
  if (what === 'all') return all(ctx, admin);
  const view = PROXY_VIEWS[what]!;
  const text = await admin.request(view.path);
  const rows = view.rows(text, admin.name, Date.now());
  ctx.out(render(ctx.output(), view.value(text, admin.name), rows, view.columns, view.empty));
  return EXIT.ok;
};

/** Every view: tables one after the other, or the whole /config_dump as JSON or YAML. */
async function all(ctx: Context, admin: AdminSource): Promise<number> {
  const dump = await admin.request('/config_dump');
  if (ctx.output() !== 'table') {
    parseProxyConfigDump(dump, admin.name);
    ctx.out(render(ctx.output(), JSON.parse(dump), [], []));
    return EXIT.ok;
  }
  const hosts = await admin.request('/clusters');
  const now = Date.now();
  ctx.out(
    SECTIONS.map((s) => {
      const view = PROXY_VIEWS[s]!;
      const rows = view.rows(view.path === '/clusters' ? hosts : dump, admin.name, now);
      return `${s.toUpperCase()}\n${rows.length ? table(rows, view.columns) : view.empty}`;
    }).join('\n'),
  );
  return EXIT.ok;
}

/** The log levels; with --level, changes them first (LEVEL, or SCOPE:LEVEL; "default" resets a scope). */
async function logLevels(ctx: Context, admin: AdminSource): Promise<number> {
  const levels = ctx.flag<string | undefined>('level');
  if (!levels) {
    ctx.out(withNewline(await admin.request('/logging')));
    return EXIT.ok;
  }
  const query = new URLSearchParams();
  for (const item of levels.split(',').map((s) => s.trim())) {
    const m = /^(?:([^:=\s]+):)?([a-z]+)$/.exec(item);
    if (!m)
      throw new UsageError(
        `--level ${levels}: "${item}" is not LEVEL or SCOPE:LEVEL (e.g. debug, or rbac:debug,router:info)`,
        ctx.inv.path,
      );
    query.append(m[1] ?? 'level', m[2]!);
  }
  ctx.out(withNewline(await admin.request(`/logging?${query}`, 'POST')));
  return EXIT.ok;
}

const withNewline = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

async function source(ctx: Context): Promise<AdminSource> {
  const direct = ctx.flag<string | undefined>('admin-address');
  const target = ctx.inv.args[0];
  if (direct && target)
    throw new UsageError(`give a POD or --admin-address, not both`, ctx.inv.path);
  if (direct) return directSource(direct);
  if (!target)
    throw new UsageError(
      'which proxy? give its POD (NAME, NAME.NAMESPACE, deploy/NAME or gateway/NAME), or --admin-address',
      ctx.inv.path,
    );
  const kube = await ctx.kube();
  const pod = await resolvePod(kube, target, ctx.flag<string | undefined>('namespace'));
  const { namespace, name } = pod.metadata;
  return {
    name: `proxy ${namespace}/${name}`,
    request: (path, method) =>
      portForwardText(kube, namespace, name, ADMIN_PORT, path, method ? { method } : {}),
  };
}

/** The running pod of a waypoint or gateway named by `target`; anything else is refused. */
async function resolvePod(
  kube: Kube,
  target: string,
  namespaceFlag: string | undefined,
): Promise<KubeObject> {
  const kind = /^(deploy|deployment|deployments|gateway|gateways)\/(.+)$/.exec(target);
  let name = kind ? kind[2]! : target;
  let namespace = namespaceFlag ?? 'default';
  if (!kind && !namespaceFlag && name.includes('.')) {
    const dot = name.indexOf('.');
    namespace = name.slice(dot + 1);
    name = name.slice(0, dot);
  }
  let pod: KubeObject | undefined;
  if (kind) {
    const gateway = kind[1]!.startsWith('gateway');
    let selector = `${GATEWAY_NAME}=${name}`;
    if (!gateway) {
      const d = await kube.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name });
      if (!d)
        throw new Error(
          `no deployment ${namespace}/${name} (-n sets the namespace; gateway/NAME picks a pod of the Gateway NAME)`,
        );
      selector = Object.entries(d.spec?.selector?.matchLabels ?? {})
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',');
    }
    const pods = (await kube.list('v1', 'Pod', { namespace, labelSelector: selector })).filter(
      (p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp,
    );
    pod = pods.sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)))[0];
    if (!pod) throw new Error(`${kind[1]}/${name} in ${namespace} has no running pod`);
  } else {
    pod = await kube.get({ apiVersion: 'v1', kind: 'Pod', namespace, name });
    if (!pod)
      throw new Error(
        `no pod ${namespace}/${name} (POD is NAME, NAME.NAMESPACE, deploy/NAME or gateway/NAME)`,
      );
  }
  if (!pod.metadata.labels?.[GATEWAY_NAME]) {
    const ztunnel = pod.metadata.labels?.app === 'ztunnel';
    throw new Error(
      ztunnel
        ? `${namespace}/${pod.metadata.name} is a ztunnel: use trellis ztunnel-config`
        : `${namespace}/${pod.metadata.name} is not a waypoint or gateway proxy (no ${GATEWAY_NAME} label); in ambient, a workload has no proxy of its own: see the ztunnel of its node (trellis ztunnel-config) and its waypoint (trellis waypoint status)`,
    );
  }
  if (pod.status?.phase !== 'Running')
    throw new Error(
      `pod ${namespace}/${pod.metadata.name} is ${pod.status?.phase ?? 'not running'}`,
    );
  return pod;
}

/** A proxy whose admin endpoint is reachable directly at HOST:PORT. */
function directSource(address: string): AdminSource {
  const m = /^(.*):(\d+)$/.exec(address);
  if (!m) throw new Error(`--admin-address ${address}: expected HOST:PORT`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  return {
    name: `proxy at ${address}`,
    request: (path, method) =>
      httpText(host, port, path, method ? { method } : {}).catch((e: Error) => {
        throw new Error(`proxy at ${address}: ${e.message}`);
      }),
  };
}
