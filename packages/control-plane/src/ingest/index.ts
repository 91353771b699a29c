// Sources of ClusterSnapshots, and the admission every object passes on the way in.
export {
  DEFAULT_MANIFEST_LIMITS,
  formatBytes,
  formatProblem,
  parseManifests,
  parseManifestSteps,
  parseSnapshot,
  snapshotFromObjects,
  type ManifestLimits,
  type ManifestProblem,
  type ParsedManifests,
  type SnapshotBuild,
  type SourcedObject,
} from './manifests.js';
export {
  admitObject,
  admitSnapshot,
  objectLabel,
  CONVERTERS,
  type Admission,
  type Rejection,
  type SnapshotField,
} from './convert/admit.js';
export { ShapeError } from './convert/reader.js';

/** An input left out of the served state: a config-dir document or a cluster object. */
export type IngestProblem =
  import('./manifests.js').ManifestProblem | import('./convert/admit.js').Rejection;
export {
  loadConfigDir,
  watchConfigDir,
  type ConfigDirLimits,
  type ConfigDirLoad,
  type ConfigDirWatcher,
  type WatchConfigDirOptions,
} from './file.js';
