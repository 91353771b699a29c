// Public surface of @trellis/cli (the `trellis` executable is dist/main.js): the pieces e2e suites
// and tools reuse.
export { ROOT } from './commands/tree.js';
export { parseArgs } from './cli/parse-args.pure.js';
export { completionScript, SHELLS, type Shell } from './cli/completion.pure.js';
export { EXIT, UsageError, type Command, type Flag, type Invocation } from './cli/command-spec.js';
export {
  CLI_VERSION,
  DEPLOY_DIR,
  GATEWAY_API_FILE,
  GATEWAY_API_VERSION,
  installManifests,
} from './manifests/bundle.js';
export { renderManifests, NAMESPACE, INSTALL_SELECTOR } from './manifests/render.pure.js';
export {
  parseSets,
  VALUE_SPECS,
  PROFILES,
  type Profile,
  type Values,
} from './manifests/values.pure.js';
export { loadKustomization } from './manifests/kustomize.js';
export { Kube, KubeApiError, type KubeTarget } from './kube/kube.js';
export { analyze, type Finding, type AnalysisInput } from './mesh/analyze.pure.js';
export { waypointGateway } from './mesh/waypoint.pure.js';
export {
  createKindCluster,
  deleteKindCluster,
  loadKindImages,
  missingImages,
  requireDocker,
  type KindCreateOptions,
} from './cluster/kind.js';
export { meshImages } from './cluster/kind-plan.pure.js';
