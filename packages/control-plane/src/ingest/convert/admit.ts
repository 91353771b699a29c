// Admission of raw objects into a ClusterSnapshot: each kind's converter (core kinds are checked
// and kept as they are; the CRDs become typed records). An object that does not fit is rejected
// with a message naming its kind, namespace/name and the field at fault; everything else is kept.
// Results are remembered per raw object, so informer objects that did not change keep their
// admitted object (and the incremental stages skip them by identity). Pure.
import { ok, refused, type Result } from '@trellis/core';
import type { ClusterSnapshot, RawClusterSnapshot } from '../../model/kube.js';
import {
  checkEndpointSlice,
  checkMetadataOnly,
  checkPod,
  checkService,
  toTlsSecret,
} from './core.js';
import {
  toGateway,
  toGatewayClass,
  toGRPCRoute,
  toHTTPRoute,
  toReferenceGrant,
  toListenerSet,
  toTCPRoute,
  toTLSRoute,
} from './gateway-api.js';
import { toDestinationRule } from './istio-networking.js';
import { toBackendTLSPolicy, toCaConfigMap } from './backend-tls-policy.js';
import {
  toAuthorizationPolicy,
  toPeerAuthentication,
  toRequestAuthentication,
} from './istio-security.js';
import { isMap, ShapeError, withoutNulls, type Fields } from './reader.js';

export type SnapshotField = keyof ClusterSnapshot;
type Item<K extends SnapshotField> = ClusterSnapshot[K][number];

interface Converter {
  /** The Kubernetes kind, for messages. */
  readonly kind: string;
  readonly namespaced: boolean;
  /** The admitted object (its type is the snapshot field's item type). */
  readonly convert: (o: Fields) => unknown;
}

/** Kept as it came once `check` passed. */
function checked(check: (o: Fields) => void) {
  return (o: Fields) => {
    check(o);
    return o;
  };
}

export const CONVERTERS: { readonly [K in SnapshotField]: Converter } = {
  namespaces: { kind: 'Namespace', namespaced: false, convert: checked(checkMetadataOnly(false)) },
  pods: { kind: 'Pod', namespaced: true, convert: checked(checkPod) },
  services: { kind: 'Service', namespaced: true, convert: checked(checkService) },
  endpointSlices: { kind: 'EndpointSlice', namespaced: true, convert: checked(checkEndpointSlice) },
  nodes: { kind: 'Node', namespaced: false, convert: checked(checkMetadataOnly(false)) },
  serviceAccounts: {
    kind: 'ServiceAccount',
    namespaced: true,
    convert: checked(checkMetadataOnly(true)),
  },
  authorizationPolicies: {
    kind: 'AuthorizationPolicy',
    namespaced: true,
    convert: toAuthorizationPolicy,
  },
  peerAuthentications: {
    kind: 'PeerAuthentication',
    namespaced: true,
    convert: toPeerAuthentication,
  },
  requestAuthentications: {
    kind: 'RequestAuthentication',
    namespaced: true,
    convert: toRequestAuthentication,
  },
  destinationRules: { kind: 'DestinationRule', namespaced: true, convert: toDestinationRule },
  gateways: { kind: 'Gateway', namespaced: true, convert: toGateway },
  httpRoutes: { kind: 'HTTPRoute', namespaced: true, convert: toHTTPRoute },
  grpcRoutes: { kind: 'GRPCRoute', namespaced: true, convert: toGRPCRoute },
  tlsRoutes: { kind: 'TLSRoute', namespaced: true, convert: toTLSRoute },
  tcpRoutes: { kind: 'TCPRoute', namespaced: true, convert: toTCPRoute },
  referenceGrants: { kind: 'ReferenceGrant', namespaced: true, convert: toReferenceGrant },
  listenerSets: { kind: 'ListenerSet', namespaced: true, convert: toListenerSet },
  secrets: { kind: 'Secret', namespaced: true, convert: toTlsSecret },
  gatewayClasses: { kind: 'GatewayClass', namespaced: false, convert: toGatewayClass },
  backendTLSPolicies: {
    kind: 'BackendTLSPolicy',
    namespaced: true,
    convert: toBackendTLSPolicy,
  },
  configMaps: { kind: 'ConfigMap', namespaced: true, convert: toCaConfigMap },
};

/** A rejected object of the cluster: what it is and why. */
export interface Rejection {
  readonly kind: string;
  /** `<namespace>/<name>`, or the name of a cluster-scoped object, as far as it could be read. */
  readonly object: string;
  readonly message: string;
}

/** `Pod default/web` (as far as the metadata can be read). */
export function objectLabel(kind: string, raw: unknown): string {
  const meta = isMap(raw) && isMap(raw.metadata) ? raw.metadata : {};
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : '(no name)';
  const ns =
    typeof meta.namespace === 'string' && meta.namespace !== '' ? `${meta.namespace}/` : '';
  return `${kind} ${ns}${name}`;
}

const cache = new WeakMap<object, Result<unknown>>();

/** Converts one raw object of `field`; the message of a rejection names the field at fault. */
export function admitObject<K extends SnapshotField>(field: K, raw: unknown): Result<Item<K>> {
  const known = typeof raw === 'object' && raw !== null ? cache.get(raw) : undefined;
  if (known) return known as Result<Item<K>>;
  let result: Result<Item<K>>;
  try {
    if (!isMap(raw)) throw new ShapeError('', 'a Kubernetes object (a map)', raw);
    result = ok(CONVERTERS[field].convert(withoutNulls(raw)) as Item<K>);
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    result = refused(err.message);
  }
  if (typeof raw === 'object' && raw !== null) cache.set(raw, result);
  return result;
}

/** Admits every object of a raw snapshot; the rejected ones are left out and listed. */
export function admitSnapshot(raw: RawClusterSnapshot): {
  snapshot: ClusterSnapshot;
  rejected: Rejection[];
} {
  const rejected: Rejection[] = [];
  const lists = {} as Record<SnapshotField, unknown[]>;
  for (const field of Object.keys(CONVERTERS) as SnapshotField[]) {
    const out: unknown[] = [];
    for (const o of raw[field] ?? []) {
      const r = admitObject(field, o);
      if (r.ok) out.push(r.value);
      else {
        const label = objectLabel(CONVERTERS[field].kind, o);
        rejected.push({
          kind: CONVERTERS[field].kind,
          object: label.slice(label.indexOf(' ') + 1),
          message: r.reason,
        });
      }
    }
    lists[field] = out;
  }
  return { snapshot: lists as unknown as ClusterSnapshot, rejected };
}
