// Kubernetes manifests (multi-document YAML or JSON text) -> admitted objects (convert/) ->
// ClusterSnapshot. Pure: the caller reads the files.
import { Composer, LineCounter, Parser, type Document } from 'yaml';
import { emptySnapshot, type ClusterSnapshot } from '../model/kube.js';
import { admitObject, CONVERTERS, type SnapshotField } from './convert/admit.js';
import { describe } from './convert/reader.js';

/** A document that was rejected. `document` counts from 1 within its file; 0 means the whole file. */
export interface ManifestProblem {
  file: string;
  document: number;
  message: string;
  /** The kind of the rejected object, when it is one the control plane reads. */
  kind?: string;
}

export function formatProblem(p: ManifestProblem): string {
  return p.document === 0
    ? `${p.file}: ${p.message}`
    : `${p.file}: document ${p.document}: ${p.message}`;
}

interface KindSpec {
  field: SnapshotField;
  versions: readonly string[];
}

/** The kinds the control plane reads, by `<group>/<kind>` (core group is empty). */
const KINDS: ReadonlyMap<string, KindSpec> = new Map([
  ['/Namespace', { field: 'namespaces', versions: ['v1'] }],
  ['/Pod', { field: 'pods', versions: ['v1'] }],
  ['/Service', { field: 'services', versions: ['v1'] }],
  ['/Node', { field: 'nodes', versions: ['v1'] }],
  ['/ServiceAccount', { field: 'serviceAccounts', versions: ['v1'] }],
  ['discovery.k8s.io/EndpointSlice', { field: 'endpointSlices', versions: ['v1'] }],
  [
    'security.istio.io/AuthorizationPolicy',
    { field: 'authorizationPolicies', versions: ['v1', 'v1beta1'] },
  ],
  [
    'security.istio.io/PeerAuthentication',
    { field: 'peerAuthentications', versions: ['v1', 'v1beta1'] },
  ],
  [
    'security.istio.io/RequestAuthentication',
    { field: 'requestAuthentications', versions: ['v1', 'v1beta1'] },
  ],
  [
    'networking.istio.io/DestinationRule',
    { field: 'destinationRules', versions: ['v1', 'v1beta1', 'v1alpha3'] },
  ],
  ['gateway.networking.k8s.io/Gateway', { field: 'gateways', versions: ['v1', 'v1beta1'] }],
  ['gateway.networking.k8s.io/HTTPRoute', { field: 'httpRoutes', versions: ['v1', 'v1beta1'] }],
  ['gateway.networking.k8s.io/GRPCRoute', { field: 'grpcRoutes', versions: ['v1', 'v1alpha2'] }],
  [
    'gateway.networking.k8s.io/TLSRoute',
    { field: 'tlsRoutes', versions: ['v1', 'v1alpha3', 'v1alpha2'] },
  ],
  ['gateway.networking.k8s.io/TCPRoute', { field: 'tcpRoutes', versions: ['v1', 'v1alpha2'] }],
  ['gateway.networking.k8s.io/ListenerSet', { field: 'listenerSets', versions: ['v1'] }],
  [
    'gateway.networking.k8s.io/ReferenceGrant',
    { field: 'referenceGrants', versions: ['v1', 'v1beta1'] },
  ],
  ['/Secret', { field: 'secrets', versions: ['v1'] }],
  ['/ConfigMap', { field: 'configMaps', versions: ['v1'] }],
  [
    'gateway.networking.k8s.io/BackendTLSPolicy',
    { field: 'backendTLSPolicies', versions: ['v1', 'v1alpha3'] },
  ],
  [
    'gateway.networking.k8s.io/GatewayClass',
    { field: 'gatewayClasses', versions: ['v1', 'v1beta1'] },
  ],
] as [string, KindSpec][]);

/** One accepted (admitted) object and where it came from. */
export interface SourcedObject {
  file: string;
  document: number;
  field: SnapshotField;
  /** `<kind>/<namespace>/<name>` (namespace empty for cluster-scoped kinds). */
  id: string;
  object: unknown;
}

export interface ParsedManifests {
  objects: SourcedObject[];
  problems: ManifestProblem[];
  /** Valid documents of kinds the control plane does not read, e.g. `apps/v1 Deployment default/web`. */
  ignored: string[];
}

export interface ManifestLimits {
  /** Largest document, in bytes; a larger one is rejected. */
  readonly maxDocumentBytes: number;
}

const MiB = 1024 * 1024;

/**
 * The largest file and document read from a config dir: 1.5 MiB is the largest object etcd stores
 * by default, so no valid Kubernetes object is larger.
 */
export const DEFAULT_MANIFEST_LIMITS = Object.freeze({
  maxFileBytes: 16 * MiB,
  maxDocumentBytes: 1.5 * MiB,
});

/** `1.5 MiB`, `512 KiB`, `80 B`. */
export function formatBytes(n: number): string {
  if (n >= MiB) return `${+(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/**
 * Parses every document of one file. A bad document is reported and skipped; the others are kept.
 * `kind: List` documents are expanded. Namespaced objects without a namespace get `default`.
 */
export function parseManifests(
  text: string,
  file: string,
  limits: ManifestLimits = DEFAULT_MANIFEST_LIMITS,
): ParsedManifests {
  const result: ParsedManifests = { objects: [], problems: [], ignored: [] };
  for (const _ of parseManifestSteps(text, file, limits, result));
  return result;
}

/**
 * `parseManifests` one document at a time: adds each document's objects and problems to `out`
 * and yields after it, so that an asynchronous reader can let other work run between documents.
 * Nothing a document holds (bad YAML, an alias bomb, a wrong type) escapes as an exception.
 */
export function* parseManifestSteps(
  text: string,
  file: string,
  limits: ManifestLimits,
  out: ParsedManifests,
): Generator<void> {
  const lines = new LineCounter();
  const composer = new Composer();
  const tokens = new Parser(lines.addNewLine).parse(text);
  let document = 0;
  const where = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return line > 0 ? ` (line ${line}, column ${col})` : '';
  };
  try {
    for (const doc of composer.compose(tokens)) {
      document++;
      readDocument(doc, document, text, file, limits, where, out);
      yield;
    }
    if (document === 0) {
      const err = composer.streamInfo().errors[0];
      if (err) out.problems.push({ file, document: 0, message: `invalid YAML: ${err.message}` });
    }
  } catch (err) {
    // The YAML library itself failed (it should not): the rest of the file cannot be read.
    out.problems.push({
      file,
      document: document + 1,
      message: `cannot parse: ${(err as Error).message}; the rest of the file is skipped`,
    });
  }
}

function readDocument(
  doc: Document.Parsed,
  document: number,
  text: string,
  file: string,
  limits: ManifestLimits,
  where: (offset: number) => string,
  out: ParsedManifests,
): void {
  const [start, , end] = doc.range;
  const chars = end - start;
  const bytes =
    chars * 3 > limits.maxDocumentBytes ? Buffer.byteLength(text.slice(start, end)) : chars;
  if (bytes > limits.maxDocumentBytes) {
    out.problems.push({
      file,
      document,
      message: `${formatBytes(bytes)} is more than the ${formatBytes(limits.maxDocumentBytes)} allowed for one document (--config-max-document-size); skipped`,
    });
    return;
  }
  const error = doc.errors[0];
  if (error) {
    out.problems.push({
      file,
      document,
      message: `invalid YAML: ${error.message.split('\n')[0]}${where(error.pos[0])}`,
    });
    return;
  }
  let value: unknown;
  try {
    // Aliases beyond the library's limit (an "alias bomb") throw here: one bad document.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    out.problems.push({ file, document, message: `cannot read: ${(err as Error).message}` });
    return;
  }
  if (value === null || value === undefined) return; // empty document, e.g. after a trailing `---`
  if (isObject(value) && value.kind === 'List' && Array.isArray(value.items)) {
    value.items.forEach((item, j) => accept(item, file, document, `items[${j}]: `, out));
  } else {
    accept(value, file, document, '', out);
  }
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
  const namespaced = CONVERTERS[spec.field].namespaced;
  const object = namespaced
    ? { ...value, metadata: { ...metadata, namespace: namespace ?? 'default' } }
    : value;
  const ns = namespaced ? (namespace ?? 'default') : '';
  // Every field the control plane reads is checked here, so nothing later trips over a type.
  const admitted = admitObject(spec.field, object);
  if (!admitted.ok) {
    out.problems.push({
      file,
      document,
      kind,
      message: `${where}${kind} ${ns ? `${ns}/` : ''}${metadata.name}: ${admitted.reason}`,
    });
    return;
  }
  out.objects.push({
    file,
    document,
    field: spec.field,
    id: `${kind}/${ns}/${metadata.name}`,
    object: admitted.value,
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
