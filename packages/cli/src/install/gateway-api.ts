// The Gateway API CRDs: Trellis needs them (waypoints are Gateways; routes are HTTPRoutes and
// GRPCRoutes) but does not own them. Install applies a pinned release only when they are missing.
import type { Kube } from '../kube/kube.js';
import type { KubeObject } from '../kube/objects.pure.js';
import { gatewayApiCrds } from '../manifests/bundle.js';
import { applyAll, FIELD_MANAGER } from './apply.js';

export const GATEWAYS_CRD = 'gateways.gateway.networking.k8s.io';
const BUNDLE_VERSION = 'gateway.networking.k8s.io/bundle-version';

const crdRef = (name: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  name,
});

/** The installed Gateway API CRDs' bundle version, or undefined when they are missing. */
export async function installedGatewayApi(
  kube: Kube,
): Promise<{ version: string; crd: KubeObject } | undefined> {
  const crd = await kube.get(crdRef(GATEWAYS_CRD));
  if (!crd) return undefined;
  return { version: crd.metadata?.annotations?.[BUNDLE_VERSION] ?? 'unknown', crd };
}

/** Whether this CLI applied the Gateway API CRDs (so uninstall --purge may remove them). */
export function appliedByTrellis(crd: KubeObject): boolean {
  return (crd.metadata?.managedFields ?? []).some((f: KubeObject) => f.manager === FIELD_MANAGER);
}

/** Applies the Gateway API CRDs when missing; returns what it did, for the install log. */
export async function ensureGatewayApi(
  kube: Kube,
  source: string | undefined,
  o: { dryRun: boolean; log: (line: string) => void },
): Promise<string> {
  const found = await installedGatewayApi(kube);
  if (found) return `Gateway API CRDs ${found.version} present`;
  const docs = await gatewayApiCrds(source);
  if (o.dryRun)
    return `Gateway API CRDs missing: would apply ${docs.length} objects from ${source ?? 'the bundled release'}`;
  await applyAll(kube, docs, { log: () => {} });
  const now = await installedGatewayApi(kube);
  return `Gateway API CRDs ${now?.version ?? ''} applied (${docs.length} objects from ${source ?? 'the bundled release'})`;
}

/** The CRDs (and their companions) a Gateway API bundle holds, for uninstall --purge. */
export async function gatewayApiObjects(kube: Kube): Promise<KubeObject[]> {
  const crds = await kube.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
  // The experimental channel also has CRDs of the x-k8s.io group (XBackendTrafficPolicy, XMesh).
  return crds.filter((c) =>
    /\.gateway\.networking\.(x-)?k8s\.io$/.test(String(c.metadata?.name ?? '')),
  );
}
