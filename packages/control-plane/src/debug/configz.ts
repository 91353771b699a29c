// /debug/configz: what the control plane currently knows, as JSON: the ingested objects (by kind,
// as <namespace>/<name>), the inputs rejected at ingest and why, the derived mesh (services,
// workloads, waypoints, policies), the WDS resource names with their versions, and the
// translation notes.
import type { ClusterSnapshot } from '../model/kube.js';
import type { ServedSnapshot } from '../server/served-snapshot.js';

export interface ConfigzInput {
  readonly snapshot: ServedSnapshot | undefined;
  /** Snapshot version the xDS server is serving ("0" before the first). */
  readonly servedVersion: string;
  /** Where the state comes from, e.g. "config dir /etc/trellis" or "kubernetes https://...". */
  readonly source: string;
}

export function configz({
  snapshot,
  servedVersion,
  source,
}: ConfigzInput): Record<string, unknown> {
  if (!snapshot) return { source, servedVersion, ready: false };
  const { cluster, state } = snapshot;
  return {
    source,
    servedVersion,
    ready: true,
    generation: snapshot.generation,
    builtAt: snapshot.builtAt.toISOString(),
    options: state.options,
    objects: objectNames(cluster),
    rejected: snapshot.rejected,
    mesh: {
      waypoints: [...state.waypoints.values()],
      services: [...state.services.values()],
      workloads: [...state.workloads.values()],
      authorizationPolicies: state.authorizationPolicies,
      peerAuthentications: state.peerAuthentications,
    },
    resources: Object.fromEntries(
      [...snapshot.wds].map(([typeUrl, resources]) => [
        typeUrl,
        Object.fromEntries([...resources].map(([name, r]) => [name, r.version])),
      ]),
    ),
    notes: snapshot.notes,
  };
}

function objectNames(cluster: ClusterSnapshot): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [kind, objects] of Object.entries(cluster) as [
    string,
    readonly { metadata?: { name?: string; namespace?: string } }[],
  ][]) {
    out[kind] = objects
      .map((o) =>
        o.metadata?.namespace
          ? `${o.metadata.namespace}/${o.metadata.name}`
          : (o.metadata?.name ?? ''),
      )
      .sort();
  }
  return out;
}
