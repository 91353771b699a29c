// Server-side apply of a set of objects in dependency order: CRDs first (then waits until the API
// server serves them), then everything else. Also: prune what an earlier install left that the
// new set no longer has.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kube } from '../kube/kube.js';
import {
  applyOrder,
  describeRef,
  isCrd,
  refKey,
  refOf,
  type KubeObject,
} from '../kube/objects.pure.js';
import { INSTALL_SELECTOR } from '../manifests/render.pure.js';

export const FIELD_MANAGER = 'trellis-install';

export interface ApplyAllOptions {
  readonly dryRun?: boolean;
  readonly log: (line: string) => void;
  /** How long CRDs may take to be Established. */
  readonly crdTimeoutMs?: number;
}

/**
 * Applies every object; returns how many were applied (in a dry run, how many the API server
 * checked). Throws at the first refusal. A dry run cannot check an object whose CRD or namespace
 * does not exist yet (they come with the same apply); such objects are reported and skipped.
 */
export async function applyAll(
  kube: Kube,
  objects: readonly KubeObject[],
  o: ApplyAllOptions,
): Promise<number> {
  const ordered = applyOrder(objects);
  const crds = ordered.filter(isCrd);
  const rest = ordered.filter((x) => !isCrd(x));
  for (const crd of crds) await applyOne(kube, crd, o);
  if (crds.length && !o.dryRun) {
    await waitEstablished(kube, crds, o.crdTimeoutMs ?? 60_000);
    kube.forgetDiscovery();
  }
  let applied = crds.length;
  const namespaceExists = new Map<string, boolean>();
  for (const obj of rest) {
    if (o.dryRun) {
      const why = await uncheckable(kube, obj, namespaceExists);
      if (why) {
        o.log(`  ${describeRef(refOf(obj))} (not checked: ${why})`);
        continue;
      }
    }
    await applyOne(kube, obj, o);
    applied++;
  }
  return applied;
}

/** Why a dry run cannot check an object before the real apply created what it needs. */
async function uncheckable(
  kube: Kube,
  obj: KubeObject,
  namespaceExists: Map<string, boolean>,
): Promise<string | undefined> {
  if (!(await kube.resource(obj.apiVersion, obj.kind)))
    return `${obj.kind} is not served until its CRD is installed`;
  const ns = obj.metadata?.namespace;
  if (!ns) return undefined;
  if (!namespaceExists.has(ns))
    namespaceExists.set(
      ns,
      (await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: ns })) !== undefined,
    );
  return namespaceExists.get(ns)
    ? undefined
    : `namespace ${ns} does not exist until the install creates it`;
}

async function applyOne(kube: Kube, obj: KubeObject, o: ApplyAllOptions): Promise<void> {
  await kube.apply(obj, { fieldManager: FIELD_MANAGER, dryRun: o.dryRun === true, force: true });
  o.log(`  ${describeRef(refOf(obj))}${o.dryRun ? ' (dry run)' : ''}`);
}

/** Waits until each CRD has condition Established=True. */
export async function waitEstablished(
  kube: Kube,
  crds: readonly KubeObject[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (;;) {
      const live = await kube.get(refOf(crd));
      const established = (live?.status?.conditions ?? []).some(
        (c: KubeObject) => c.type === 'Established' && c.status === 'True',
      );
      if (established) break;
      if (Date.now() > deadline)
        throw new Error(
          `CRD ${crd.metadata.name} is not Established after ${timeoutMs / 1000}s: ${JSON.stringify(live?.status?.conditions ?? [])}`,
        );
      await sleep(250);
    }
  }
}

/** The kinds an install creates, for finding what an earlier install left. */
export function installedKinds(
  objects: readonly KubeObject[],
): { apiVersion: string; kind: string }[] {
  const seen = new Map<string, { apiVersion: string; kind: string }>();
  for (const o of objects)
    seen.set(`${o.apiVersion}/${o.kind}`, { apiVersion: o.apiVersion, kind: o.kind });
  return [...seen.values()];
}

/** Objects labelled as part of Trellis, of the given kinds, that exist in the cluster now. */
export async function findInstalled(
  kube: Kube,
  kinds: readonly { apiVersion: string; kind: string }[],
): Promise<KubeObject[]> {
  const found: KubeObject[] = [];
  for (const k of kinds)
    found.push(...(await kube.list(k.apiVersion, k.kind, { labelSelector: INSTALL_SELECTOR })));
  return found;
}

/** Deletes installed objects that `wanted` does not contain (never CRDs). Returns what was deleted. */
export async function prune(
  kube: Kube,
  installed: readonly KubeObject[],
  wanted: readonly KubeObject[],
  log: (line: string) => void,
): Promise<string[]> {
  const keep = new Set(wanted.map((w) => refKey(refOf(w))));
  const deleted: string[] = [];
  for (const obj of installed) {
    if (isCrd(obj) || keep.has(refKey(refOf(obj)))) continue;
    if (await kube.delete(refOf(obj))) {
      const what = describeRef(refOf(obj));
      deleted.push(what);
      log(`  deleted ${what} (no longer part of the install)`);
    }
  }
  return deleted;
}
