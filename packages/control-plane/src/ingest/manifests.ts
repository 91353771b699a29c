// Kubernetes manifests (multi-document YAML or JSON text) -> validated objects -> ClusterSnapshot.
// Pure: the caller reads the files.
import { parseAllDocuments } from 'yaml';
import { emptySnapshot, type ClusterSnapshot } from '../model/kube.js';

/** A document that was rejected. `document` counts from 1 within its file; 0 means the whole file. */
export interface ManifestProblem {
  file: string;
  document: number;
  message: string;
}

export function formatProblem(p: ManifestProblem): string {
  return p.document === 0
    ? `${p.file}: ${p.message}`
    : `${p.file}: document ${p.document}: ${p.message}`;
}

type SnapshotField = keyof ClusterSnapshot;

interface KindSpec {
  field: SnapshotField;
  namespaced: boolean;
  versions: readonly string[];
}

/** The kinds the control plane reads, by `<group>/<kind>` (core group is empty). */
const KINDS: ReadonlyMap<string, KindSpec> = new Map([
  ['/Namespace', { field: 'namespaces', namespaced: false, versions: ['v1'] }],
  ['/Pod', { field: 'pods', namespaced: true, versions: ['v1'] }],
  ['/Service', { field: 'services', namespaced: true, versions: ['v1'] }],
  ['/Node', { field: 'nodes', namespaced: false, versions: ['v1'] }],
  ['/ServiceAccount', { field: 'serviceAccounts', namespaced: true, versions: ['v1'] }],
  [
    'discovery.k8s.io/EndpointSlice',
    { field: 'endpointSlices', namespaced: true, versions: ['v1'] },
  ],
  [
    'security.istio.io/AuthorizationPolicy',
    { field: 'authorizationPolicies', namespaced: true, versions: ['v1', 'v1beta1'] },
  ],
  [
    'security.istio.io/PeerAuthentication',
    { field: 'peerAuthentications', namespaced: true, versions: ['v1', 'v1beta1'] },
  ],
  [
    'security.istio.io/RequestAuthentication',
    { field: 'requestAuthentications', namespaced: true, versions: ['v1', 'v1beta1'] },
  ],
  [
    'networking.istio.io/DestinationRule',
    { field: 'destinationRules', namespaced: true, versions: ['v1', 'v1beta1', 'v1alpha3'] },
  ],
  [
    'gateway.networking.k8s.io/Gateway',
    { field: 'gateways', namespaced: true, versions: ['v1', 'v1beta1'] },
  ],
  [
    'gateway.networking.k8s.io/HTTPRoute',
    { field: 'httpRoutes', namespaced: true, versions: ['v1', 'v1beta1'] },
  ],
  [
    'gateway.networking.k8s.io/GRPCRoute',
    { field: 'grpcRoutes', namespaced: true, versions: ['v1', 'v1alpha2'] },
  ],
] as [string, KindSpec][]);

/** One accepted object and where it came from. */
export interface SourcedObject {
  file: string;
  document: number;
  field: SnapshotField;
  /** `<kind>/<namespace>/<name>` (namespace empty for cluster-scoped kinds). */
  id: string;
  object: Record<string, unknown>;
}

export interface ParsedManifests {
  objects: SourcedObject[];
  problems: ManifestProblem[];
  /** Valid documents of kinds the control plane does not read, e.g. `apps/v1 Deployment default/web`. */
  ignored: string[];
}

/**
 * Parses every document of one file. A bad document is reported and skipped; the others are kept.
 * `kind: List` documents are expanded. Namespaced objects without a namespace get `default`.
 */
export function parseManifests(text: string, file: string): ParsedManifests {
  const result: ParsedManifests = { objects: [], problems: [], ignored: [] };
  let docs;
  try {
    docs = parseAllDocuments(text);
  } catch (err) {
    result.problems.push({ file, document: 0, message: `cannot parse: ${(err as Error).message}` });
    return result;
  }
  if (!Array.isArray(docs)) docs = [docs]; // an empty stream parses to one empty document
  docs.forEach((doc, i) => {
    const document = i + 1;
    if (doc.errors.length > 0) {
      result.problems.push({
        file,
        document,
        message: `invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`,
      });
      return;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return; // empty document, e.g. after a trailing `---`
    if (isObject(value) && value.kind === 'List' && Array.isArray(value.items)) {
      value.items.forEach((item, j) => accept(item, file, document, `items[${j}]: `, result));
    } else {
      accept(value, file, document, '', result);
    }
  });
  return result;
}

function accept(
  value: unknown,
  file: string,
  document: number,
  where: string,
  out: ParsedManifests,
): void {
  const problem = (message: string): void => {
    out.problems.push({ file, document, message: where + message });
  };
  if (!isObject(value)) return problem(`expected a Kubernetes object, got ${describe(value)}`);
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== 'string' || apiVersion === '') return problem('apiVersion is missing');
  if (typeof kind !== 'string' || kind === '') return problem('kind is missing');
  if (!isObject(metadata)) return problem(`${kind}: metadata is missing`);
  if (typeof metadata.name !== 'string' || metadata.name === '')
    return problem(`${kind}: metadata.name is missing`);
  const label = `${kind} ${metadata.name}`;
  for (const field of ['labels', 'annotations'] as const) {
    const map = metadata[field];
    if (map === undefined || map === null) continue;
    if (!isObject(map)) return problem(`${label}: metadata.${field} must be a map of strings`);
    const bad = Object.entries(map).find(([, v]) => typeof v !== 'string');
    if (bad)
      return problem(
        `${label}: metadata.${field}["${bad[0]}"] must be a string (quote it), got ${describe(bad[1])}`,
      );
  }
  if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string') {
    return problem(`${label}: metadata.namespace must be a string`);
  }
  if (value.spec !== undefined && value.spec !== null && !isObject(value.spec))
    return problem(`${label}: spec must be an object`);
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const spec = KINDS.get(`${group}/${kind}`);
  const namespace =
    typeof metadata.namespace === 'string' && metadata.namespace !== ''
      ? metadata.namespace
      : undefined;
  if (!spec) {
    out.ignored.push(
      `${file}: document ${document}: ${apiVersion} ${kind} ${namespace ? `${namespace}/` : ''}${metadata.name}`,
    );
    return;
  }
  if (!spec.versions.includes(version)) {
    return problem(
      `${label}: unsupported apiVersion ${apiVersion} (expected ${spec.versions.map((v) => (group ? `${group}/${v}` : v)).join(' or ')})`,
    );
  }
  const object = spec.namespaced
    ? { ...value, metadata: { ...metadata, namespace: namespace ?? 'default' } }
    : value;
  const ns = spec.namespaced ? (namespace ?? 'default') : '';
  out.objects.push({
    file,
    document,
    field: spec.field,
    id: `${kind}/${ns}/${metadata.name}`,
    object,
  });
}

export interface SnapshotBuild {
  snapshot: ClusterSnapshot;
  problems: ManifestProblem[];
}

/** Collects objects into a snapshot; a second object with the same kind, namespace and name is rejected. */
export function snapshotFromObjects(objects: readonly SourcedObject[]): SnapshotBuild {
  const lists: Record<SnapshotField, unknown[]> = Object.fromEntries(
    Object.keys(emptySnapshot()).map((k) => [k, [] as unknown[]]),
  ) as Record<SnapshotField, unknown[]>;
  const seen = new Map<string, SourcedObject>();
  const problems: ManifestProblem[] = [];
  for (const o of objects) {
    const first = seen.get(o.id);
    if (first) {
      problems.push({
        file: o.file,
        document: o.document,
        message: `duplicate ${o.id.replace(/\/\//, '/')}: already defined in ${first.file} document ${first.document}`,
      });
      continue;
    }
    seen.set(o.id, o);
    lists[o.field].push(o.object);
  }
  return { snapshot: lists as unknown as ClusterSnapshot, problems };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return typeof v === 'string'
    ? `the string "${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`
    : `${typeof v} ${String(v)}`;
}

/** One manifest text straight to a snapshot (for tests and an offline `translate -f`). */
export function parseSnapshot(
  text: string,
  file = 'input.yaml',
): SnapshotBuild & { ignored: string[] } {
  const parsed = parseManifests(text, file);
  const built = snapshotFromObjects(parsed.objects);
  return {
    snapshot: built.snapshot,
    problems: [...parsed.problems, ...built.problems],
    ignored: parsed.ignored,
  };
}
