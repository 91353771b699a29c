// The immutable snapshot the xDS server serves: the ingested cluster state, what the collections
// derived from it, and the WDS resources packed once for every ztunnel.
import type { MeshState } from '../collections/mesh-state.js';
import type { IngestProblem } from '../ingest/index.js';
import type { ClusterSnapshot } from '../model/kube.js';
import type { EnvoyOutputs, EnvoyState } from '../translate/envoy/index.js';
import type { TranslationNote } from '../translate/index.js';
import type { PackedWds } from './wds-resources.js';

export interface ServedSnapshot {
  /** Counts snapshots built since start (1 for the first). */
  readonly generation: number;
  /** When the snapshot was built. */
  readonly builtAt: Date;
  readonly cluster: ClusterSnapshot;
  readonly state: MeshState;
  /** `state` with the snapshot's routes: the Envoy translators' input (one object per snapshot). */
  readonly envoy: EnvoyState;
  /**
   * The pipeline's Envoy sets (the same object in every snapshot of a pipeline), built from
   * `envoy` incrementally when a proxy asks; the Envoy generators serve from it. Absent: built
   * with the module's shared outputs.
   */
  readonly envoyOutputs?: EnvoyOutputs;
  readonly wds: PackedWds;
  /** What could not be enforced or bound (also written to logs and status). */
  readonly notes: readonly TranslationNote[];
  /** Inputs left out of `cluster` because they could not be read (shown in /debug/configz). */
  readonly rejected: readonly IngestProblem[];
}
