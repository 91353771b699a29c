// Sources of ClusterSnapshots.
export {
  formatProblem,
  parseManifests,
  parseSnapshot,
  snapshotFromObjects,
  type ManifestProblem,
  type ParsedManifests,
  type SnapshotBuild,
  type SourcedObject,
} from './manifests.js';
export {
  loadConfigDir,
  watchConfigDir,
  type ConfigDirLoad,
  type ConfigDirWatcher,
  type WatchConfigDirOptions,
} from './file.js';
