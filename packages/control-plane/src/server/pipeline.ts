// ClusterSnapshot -> MeshState (incremental) -> translateState -> packed WDS -> xds.update, with
// only the types whose resources changed. Unchanged infos keep their objects from one snapshot to
// the next, so translation and packing only redo what changed. The xDS server debounces bursts into one push; the first
// snapshot is published at once so that proxies waiting for it are served without delay.
import { destinationRuleNotes } from '../translate/envoy/traffic-policy.js';
import { performance } from 'node:perf_hooks';
import type { Meter } from '@opentelemetry/api';
import type { Logger } from '@trellis/core';
import type { XdsServer } from '@trellis/xds';
import { createMeshStateDeriver } from '../collections/incremental-mesh-state.js';
import type { IngestProblem } from '../ingest/index.js';
import type { ClusterSnapshot } from '../model/kube.js';
import type { MeshOptions } from '../model/options.js';
import { createEnvoyOutputs, ENVOY_TYPE_URLS, withRoutes } from '../translate/envoy/index.js';
import { createStateTranslator, type TranslationNote } from '../translate/index.js';
import type { ServedSnapshot } from './served-snapshot.js';
import { changedWdsTypes, packWds, WDS_TYPE_URLS } from './wds-resources.js';

export interface PipelineOptions {
  readonly xds: Pick<XdsServer<ServedSnapshot>, 'update' | 'flush'>;
  readonly mesh: MeshOptions;
  readonly logger: Logger;
  readonly meter?: Meter;
  /** Called after each snapshot built with how long its stages took (the benchmark reports them). */
  readonly onTimings?: (t: PipelineTimings) => void;
}

/** Wall time of each stage of one `apply`, ms. */
export interface PipelineTimings {
  readonly deriveMs: number;
  readonly translateMs: number;
  /** withRoutes and bringing the Envoy sets proxies asked for to the new state. */
  readonly envoyStateMs: number;
  /** packWds and changedWdsTypes. */
  readonly packMs: number;
}

export interface Pipeline {
  /**
   * Builds and publishes the snapshot for `cluster`; returns it (undefined if building failed).
   * `rejected`: the inputs ingest left out of `cluster` (for /debug/configz and the metrics).
   */
  apply(cluster: ClusterSnapshot, rejected?: readonly IngestProblem[]): ServedSnapshot | undefined;
  /** The newest snapshot built. */
  readonly current: ServedSnapshot | undefined;
  /** True once the first snapshot has been published to the xDS server. */
  readonly ready: boolean;
  /** Calls `listener` with every snapshot built (controllers write status from it). */
  onSnapshot(listener: (snapshot: ServedSnapshot) => void): void;
}

export function createPipeline(o: PipelineOptions): Pipeline {
  let current: ServedSnapshot | undefined;
  let generation = 0;
  const listeners: ((s: ServedSnapshot) => void)[] = [];
  // Recomputes only what each snapshot's changed objects touch (equal to a full derivation).
  const deriver = createMeshStateDeriver(o.mesh);
  const translator = createStateTranslator();
  // The Envoy sets proxies asked for, kept up to date incrementally.
  const envoyOutputs = createEnvoyOutputs();
  o.meter
    ?.createObservableGauge('pilot_services', {
      description: 'Services known to the control plane.',
    })
    .addCallback((r) => r.observe(current?.state.services.size ?? 0));
  o.meter
    ?.createObservableGauge('trellis_workloads', {
      description: 'Workloads known to the control plane.',
    })
    .addCallback((r) => r.observe(current?.state.workloads.size ?? 0));
  // Inputs left out because they could not be read: a gauge by kind (bounded: the kinds we read and
  // "unknown") and Istio's running total.
  o.meter
    ?.createObservableGauge('trellis_config_rejected_objects', {
      description:
        'Objects or config documents currently left out because they cannot be read, by kind.',
    })
    .addCallback((r) => {
      const byKind = new Map<string, number>();
      for (const p of current?.rejected ?? [])
        byKind.set(p.kind ?? 'unknown', (byKind.get(p.kind ?? 'unknown') ?? 0) + 1);
      for (const [kind, n] of byKind) r.observe(n, { kind });
    });
  const totalRejected = o.meter?.createCounter('pilot_total_k8s_object_errors', {
    description: 'Objects or config documents rejected since start (each counted when it appears).',
  });

  return {
    apply(cluster, rejected = []) {
      let next: ServedSnapshot;
      let types: string[];
      const t0 = performance.now();
      try {
        const state = deriver.derive(cluster);
        const t1 = performance.now();
        const translated = translator.translate(state);
        const t2 = performance.now();
        const envoy = withRoutes(state, cluster);
        const envoyTypes = envoyOutputs.update(envoy);
        const t3 = performance.now();
        const wds = packWds(translated, current?.wds);
        // The first snapshot answers every stream that waited for one, whatever its type.
        types = current
          ? [...changedWdsTypes(current.wds, wds), ...envoyTypes]
          : [...WDS_TYPE_URLS, ...ENVOY_TYPE_URLS];
        o.onTimings?.({
          deriveMs: t1 - t0,
          translateMs: t2 - t1,
          envoyStateMs: t3 - t2,
          packMs: performance.now() - t3,
        });
        next = {
          generation: ++generation,
          builtAt: new Date(),
          cluster,
          state,
          envoy,
          envoyOutputs,
          wds,
          notes: [...translated.notes, ...destinationRuleNotes(cluster.destinationRules)],
          rejected,
        };
      } catch (err) {
        // A bug in a derivation must not take the served configuration down with it.
        o.logger.error(
          { err: (err as Error).stack ?? String(err) },
          'building the mesh snapshot failed; still serving the previous one',
        );
        return undefined;
      }
      const previous = current;
      current = next;
      const seen = new Set((previous?.rejected ?? []).map(problemKey));
      const appeared = rejected.filter((p) => !seen.has(problemKey(p))).length;
      if (appeared > 0) totalRejected?.add(appeared);
      logNewNotes(o.logger, previous?.notes ?? [], next.notes);
      o.xds.update({ snapshot: next, types });
      if (!previous) o.xds.flush();
      o.logger.debug(
        {
          generation: next.generation,
          workloads: next.state.workloads.size,
          services: next.state.services.size,
          changed: types,
        },
        'snapshot built',
      );
      for (const l of listeners) l(next);
      return next;
    },
    get current() {
      return current;
    },
    get ready() {
      return current !== undefined;
    },
    onSnapshot: (l) => void listeners.push(l),
  };
}

function problemKey(p: IngestProblem): string {
  return 'file' in p
    ? `${p.file}\0${p.document}\0${p.message}`
    : `${p.kind}\0${p.object}\0${p.message}`;
}

function logNewNotes(
  logger: Logger,
  before: readonly TranslationNote[],
  after: readonly TranslationNote[],
) {
  const key = (n: TranslationNote) => `${n.kind}\0${n.object}\0${n.message}`;
  const seen = new Set(before.map(key));
  for (const n of after)
    if (!seen.has(key(n))) logger.warn({ kind: n.kind, object: n.object }, n.message);
}
