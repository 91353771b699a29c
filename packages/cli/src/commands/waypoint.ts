// `trellis waypoint generate|apply|list|delete|status`.
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { EXIT, UsageError } from '../cli/command-spec.js';
import { FIELD_MANAGER } from '../install/apply.js';
import type { KubeObject } from '../kube/objects.pure.js';
import {
  condition,
  isWaypoint,
  USE_WAYPOINT,
  waypointGateway,
  waypointRow,
  type WaypointFor,
  type WaypointRow,
} from '../mesh/waypoint.pure.js';
import { render, type Column } from '../output/format.pure.js';
import type { Context, Handler } from './context.js';

const GATEWAY = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway' };

const gatewayOf = (ctx: Context) =>
  waypointGateway(
    ctx.flag<string>('name'),
    ctx.flag<string>('namespace'),
    ctx.flag<WaypointFor>('for'),
  );

async function requireGatewayApi(ctx: Context): Promise<void> {
  if (!(await (await ctx.kube()).resource(GATEWAY.apiVersion, GATEWAY.kind)))
    throw new Error('the cluster has no Gateway API CRDs; run trellis install first');
}

export const waypointGenerate: Handler = async (ctx) => {
  const gw = gatewayOf(ctx);
  ctx.out(ctx.output() === 'json' ? `${JSON.stringify(gw, null, 2)}\n` : stringify(gw));
  return EXIT.ok;
};

export const waypointApply: Handler = async (ctx) => {
  const kube = await ctx.kube();
  await requireGatewayApi(ctx);
  const gw = gatewayOf(ctx);
  const { name, namespace } = gw.metadata;
  if (!(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace })))
    throw new Error(`namespace ${namespace} does not exist (-n)`);
  await kube.apply(gw, { fieldManager: FIELD_MANAGER });
  ctx.log(`waypoint ${namespace}/${name} applied`);
  if (ctx.flag<boolean | undefined>('enroll-namespace')) {
    await kube.json('PATCH', `/api/v1/namespaces/${namespace}`, {
      body: { metadata: { labels: { [USE_WAYPOINT]: name } } },
      contentType: 'application/merge-patch+json',
      what: `label namespace ${namespace}`,
    });
    ctx.log(`namespace ${namespace} labelled ${USE_WAYPOINT}=${name}`);
  }
  if (ctx.flag<boolean>('wait') === false) return EXIT.ok;
  const deadline = Date.now() + ctx.flag<number>('timeout');
  for (;;) {
    const live = await kube.get({ ...GATEWAY, namespace, name });
    const programmed = condition(live, 'Programmed');
    if (programmed?.status === 'True') {
      ctx.log(`waypoint ${namespace}/${name} is Programmed`);
      return EXIT.ok;
    }
    if (Date.now() > deadline)
      throw new Error(
        `waypoint ${namespace}/${name} is not Programmed after ${ctx.flag<number>('timeout') / 1000}s: ${programmed?.message ?? 'no status (is the Trellis control plane running? trellis status)'}`,
      );
    await sleep(1000);
  }
};

const COLUMNS: Column<WaypointRow>[] = [
  { header: 'namespace', value: (r) => r.namespace },
  { header: 'name', value: (r) => r.name },
  { header: 'for', value: (r) => r.for },
  { header: 'programmed', value: (r) => r.programmed },
  { header: 'address', value: (r) => r.address },
  { header: 'message', value: (r) => r.message },
];

async function waypoints(ctx: Context, namespace: string | undefined): Promise<KubeObject[]> {
  await requireGatewayApi(ctx);
  const kube = await ctx.kube();
  const all = await kube.list(GATEWAY.apiVersion, GATEWAY.kind, namespace ? { namespace } : {});
  return all.filter(isWaypoint);
}

export const waypointList: Handler = async (ctx) => {
  const ns = ctx.flag<boolean | undefined>('all-namespaces')
    ? undefined
    : ctx.flag<string | undefined>('namespace');
  const found = await waypoints(ctx, ns);
  ctx.out(render(ctx.output(), found, found.map(waypointRow), COLUMNS, 'no waypoints\n'));
  return EXIT.ok;
};

export const waypointDelete: Handler = async (ctx) => {
  const kube = await ctx.kube();
  const namespace = ctx.flag<string>('namespace');
  const all = ctx.flag<boolean | undefined>('all') === true;
  if (all === ctx.inv.args.length > 0)
    throw new UsageError('name the waypoints to delete, or give --all (not both)', ctx.inv.path);
  const existing = await waypoints(ctx, namespace);
  const names = all ? existing.map((g) => g.metadata.name as string) : [...ctx.inv.args];
  for (const n of names) {
    if (!existing.some((g) => g.metadata.name === n))
      throw new Error(`no waypoint ${namespace}/${n} (trellis waypoint list -n ${namespace})`);
  }
  for (const n of names) {
    await kube.delete({ ...GATEWAY, namespace, name: n });
    ctx.log(`waypoint ${namespace}/${n} deleted`);
  }
  const ns = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  if (ns && names.includes(ns.metadata?.labels?.[USE_WAYPOINT])) {
    await kube.json('PATCH', `/api/v1/namespaces/${namespace}`, {
      body: { metadata: { labels: { [USE_WAYPOINT]: null } } },
      contentType: 'application/merge-patch+json',
    });
    ctx.log(`namespace ${namespace}: label ${USE_WAYPOINT} removed`);
  }
  return EXIT.ok;
};

export const waypointStatus: Handler = async (ctx) => {
  const kube = await ctx.kube();
  await requireGatewayApi(ctx);
  const namespace = ctx.flag<string>('namespace');
  const name = ctx.flag<string>('name');
  const gw = await kube.get({ ...GATEWAY, namespace, name });
  if (!gw || !isWaypoint(gw))
    throw new Error(`no waypoint ${namespace}/${name} (trellis waypoint list)`);
  const users = await waypointUsers(ctx, namespace, name);
  const conditions = (gw.status?.conditions ?? []).map((c: KubeObject) => ({
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
  }));
  const value = { ...waypointRow(gw), conditions, usedBy: users };
  if (ctx.output() !== 'table') {
    ctx.out(render(ctx.output(), value, [], []));
    return EXIT.ok;
  }
  ctx.out(
    render(
      'table',
      value,
      conditions,
      [
        { header: 'condition', value: (c: KubeObject) => c.type },
        { header: 'status', value: (c: KubeObject) => c.status },
        { header: 'reason', value: (c: KubeObject) => c.reason },
        { header: 'message', value: (c: KubeObject) => c.message },
      ],
      'no conditions yet (is the Trellis control plane running?)\n',
    ),
  );
  ctx.out(
    `used by: ${users.length ? users.join(', ') : 'nothing (label a namespace or service istio.io/use-waypoint=' + name + ')'}\n`,
  );
  return condition(gw, 'Programmed')?.status === 'True' ? EXIT.ok : EXIT.problems;
};

/** Namespaces, services and pods labelled istio.io/use-waypoint=<name> in the waypoint's namespace. */
async function waypointUsers(ctx: Context, namespace: string, name: string): Promise<string[]> {
  const kube = await ctx.kube();
  const users: string[] = [];
  const ns = await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  if (ns?.metadata?.labels?.[USE_WAYPOINT] === name) users.push(`namespace ${namespace}`);
  for (const kind of ['Service', 'Pod'])
    for (const o of await kube.list('v1', kind, {
      namespace,
      labelSelector: `${USE_WAYPOINT}=${name}`,
    }))
      users.push(`${kind.toLowerCase()} ${o.metadata.name}`);
  return users;
}
