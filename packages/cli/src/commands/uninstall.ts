// `trellis uninstall [--purge]`: the CNI agent and its node-side state first, then the rest in
// reverse dependency order, the CA's root ConfigMaps, and with --purge the CRDs and waypoints.
import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT } from '../cli/command-spec.js';
import { applyAll, findInstalled, installedKinds } from '../install/apply.js';
import {
  appliedByTrellis,
  gatewayApiObjects,
  installedGatewayApi,
} from '../install/gateway-api.js';
import {
  CLEANUP_NAME,
  CNI_AGENT_NAME,
  nodeCleanupDaemonSet,
} from '../install/node-cleanup.pure.js';
import { waitForRollouts } from '../install/rollout.js';
import type { Kube } from '../kube/kube.js';
import { deleteOrder, describeRef, isCrd, refOf, type KubeObject } from '../kube/objects.pure.js';
import { installManifests } from '../manifests/bundle.js';
import { NAMESPACE } from '../manifests/render.pure.js';
import { USE_WAYPOINT, WAYPOINT_CLASSES } from '../mesh/waypoint.pure.js';
import type { Handler } from './context.js';

export const uninstall: Handler = async (ctx) => {
  const kube = await ctx.kube();
  const purge = ctx.flag<boolean | undefined>('purge') === true;
  const timeoutMs = ctx.flag<number>('timeout');
  const deadline = Date.now() + timeoutMs;
  const installed = await findInstalled(kube, installedKinds(installManifests('default', {})));
  const deleted: string[] = [];
  const del = async (obj: KubeObject) => {
    if (await kube.delete(refOf(obj), 'Foreground')) {
      deleted.push(describeRef(refOf(obj)));
      ctx.log(`  deleted ${describeRef(refOf(obj))}`);
    }
  };
  ctx.log(`Uninstalling Trellis from ${kube.server}${purge ? ' (purge)' : ''}`);

  // 1. The CNI agent, then its node-side state by the cleanup DaemonSet.
  const agent = await kube.get({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    namespace: NAMESPACE,
    name: CNI_AGENT_NAME,
  });
  if (agent) {
    await del(agent);
    ctx.log(`  CNI agent pods gone ${await waitPodsGone(kube, 'app=trellis-cni-node', deadline)}`);
    ctx.log('Cleaning up the nodes (CNI config, plugin, in-pod rules, pod annotations)');
    const cleanup = nodeCleanupDaemonSet(agent);
    await applyAll(kube, [cleanup], { log: ctx.log });
    try {
      await waitForRollouts(kube, [cleanup], {
        timeoutMs: Math.max(deadline - Date.now(), 10_000),
        log: ctx.log,
      });
    } catch (e) {
      throw new Error(
        `node cleanup did not finish; the nodes it names still have Trellis CNI state. ${(e as Error).message}\nRun trellis uninstall again once they are fixed.`,
        { cause: e },
      );
    }
    await del(cleanup);
    ctx.log(`  cleanup pods gone ${await waitPodsGone(kube, `app=${CLEANUP_NAME}`, deadline)}`);
  }

  // 2. Everything else the install created (CRDs only with --purge, below).
  for (const obj of deleteOrder(installed.filter((o) => !isCrd(o) && o.kind !== 'Namespace')))
    await del(obj);
  const ns = installed.find((o) => o.kind === 'Namespace');
  if (ns) {
    await del(ns);
    ctx.log(`  namespace ${ns.metadata.name} gone ${await waitGone(kube, refOf(ns), deadline)}`);
  }

  // 3. The root certificate the CA published in every namespace.
  for (const cm of await kube.list('v1', 'ConfigMap', { labelSelector: 'istio.io/config=true' }))
    if (cm.metadata.name === 'istio-ca-root-cert') await del(cm);

  // 4. --purge: waypoints, our CRDs (and every policy with them), the Gateway API CRDs we applied.
  const gateways = (await kube.list('gateway.networking.k8s.io/v1', 'Gateway')).filter((g) =>
    WAYPOINT_CLASSES.includes(g.spec?.gatewayClassName),
  );
  const crds = installed.filter(isCrd);
  if (purge) {
    for (const g of gateways) await del(g);
    for (const n of await kube.list('v1', 'Namespace', { labelSelector: USE_WAYPOINT })) {
      const label = n.metadata.labels[USE_WAYPOINT];
      if (
        !gateways.some((g) => g.metadata.namespace === n.metadata.name && g.metadata.name === label)
      )
        continue;
      await kube.json('PATCH', `/api/v1/namespaces/${n.metadata.name}`, {
        body: { metadata: { labels: { [USE_WAYPOINT]: null } } },
        contentType: 'application/merge-patch+json',
      });
      ctx.log(
        `  namespace ${n.metadata.name}: label ${USE_WAYPOINT}=${label} removed (its waypoint was deleted)`,
      );
    }
    for (const crd of crds) await del(crd);
    const gw = await installedGatewayApi(kube);
    if (gw && appliedByTrellis(gw.crd)) {
      for (const crd of await gatewayApiObjects(kube)) await del(crd);
      for (const kind of ['ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicy'])
        for (const o of await kube.list('admissionregistration.k8s.io/v1', kind))
          if (String(o.metadata.name).endsWith('gateway.networking.k8s.io')) await del(o);
    }
  } else if (crds.length || gateways.length) {
    ctx.log(
      `Kept: ${crds.length} Istio CRDs (security.istio.io, DestinationRule; with their objects) and ${gateways.length} waypoint Gateways; trellis uninstall --purge removes them.`,
    );
  }

  const enrolled = (
    await kube.list('v1', 'Namespace', { labelSelector: 'istio.io/dataplane-mode=ambient' })
  ).map((n) => n.metadata.name);
  if (enrolled.length)
    ctx.log(
      `Namespaces still labelled istio.io/dataplane-mode=ambient (harmless without Trellis): ${enrolled.join(', ')}; remove with kubectl label namespace NAME istio.io/dataplane-mode-`,
    );
  ctx.log(
    deleted.length
      ? `Trellis uninstalled: ${deleted.length} objects deleted.`
      : 'Trellis was not installed; nothing to delete.',
  );
  return EXIT.ok;
};

/** How long a wait took, for the log: `after 4.2 s`. */
function after(since: number): string {
  return `after ${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** Waits until no pod matches; says how long that took. */
async function waitPodsGone(kube: Kube, labelSelector: string, deadline: number): Promise<string> {
  const since = Date.now();
  for (;;) {
    const pods = await kube.list('v1', 'Pod', { namespace: NAMESPACE, labelSelector });
    if (pods.length === 0) return after(since);
    if (Date.now() > deadline)
      throw new Error(
        `pods ${pods.map((p) => p.metadata.name).join(', ')} are still terminating; run trellis uninstall again later`,
      );
    await sleep(500);
  }
}

/** Waits until the object is gone (its finalizers done); says how long that took. */
async function waitGone(
  kube: Kube,
  ref: ReturnType<typeof refOf>,
  deadline: number,
): Promise<string> {
  const since = Date.now();
  for (;;) {
    const live = await kube.get(ref);
    if (!live) return after(since);
    if (Date.now() > deadline) {
      const why = (live.status?.conditions ?? [])
        .filter((c: KubeObject) => c.status === 'True')
        .map((c: KubeObject) => c.message)
        .join('; ');
      throw new Error(`${describeRef(ref)} is still terminating${why ? `: ${why}` : ''}`);
    }
    await sleep(500);
  }
}
