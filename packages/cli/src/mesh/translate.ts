// Manifests -> the WDS and Envoy xDS resources the control plane would serve, with the control
// plane's pure pipeline: parseManifests/snapshotFromObjects (ingest), deriveMeshState
// (collections), translateState (WDS) and the Envoy translators (waypoints, ingress gateways,
// proxyless gRPC).
import { toJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { apiRegistry } from '@trellis/api';
import { AddressSchema } from '@trellis/api/gen/istio/workload/workload_pb.js';
import { AuthorizationSchema } from '@trellis/api/gen/istio/security/authorization_pb.js';
import { ClusterSchema } from '@trellis/api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '@trellis/api/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { ListenerSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '@trellis/api/gen/envoy/config/route/v3/route_pb.js';
import { deriveMeshState } from '@trellis/control-plane/collections';
import type { MeshOptions } from '@trellis/control-plane/model';
import { formatProblem, parseManifests, snapshotFromObjects } from '@trellis/control-plane/ingest';
import { translateState } from '@trellis/control-plane/translate';
import {
  gatewayResources,
  ingressGateways,
  proxylessResources,
  waypointResources,
  withRoutes,
  workloadIndex,
  type EnvoyResources,
} from '@trellis/control-plane/translate/envoy';
import { redactPrivateKeys } from './redact.pure.js';

export const TRANSLATE_TYPES = ['all', 'wds', 'waypoint', 'gateway', 'proxyless'] as const;
export type TranslateType = (typeof TRANSLATE_TYPES)[number];

export interface Translation {
  /** istio.workload.Address and istio.security.Authorization by resource name. */
  wds?: { addresses: Record<string, unknown>; authorizations: Record<string, unknown> };
  /** Envoy resources of each waypoint, by <namespace>/<name>. */
  waypoints?: Record<string, EnvoyJson>;
  /**
   * Envoy resources of each ingress gateway (class trellis or istio), by <namespace>/<name>; its
   * SDS Secrets by name only (they hold private keys).
   */
  gateways?: Record<string, EnvoyJson & { secrets: string[] }>;
  /** The set a proxyless gRPC client would get. */
  proxyless?: EnvoyJson;
  /** What the translators had to say (unsupported fields, unresolved references). */
  notes: unknown[];
  /** Documents that were skipped, each naming its file and document. */
  problems: string[];
}

interface EnvoyJson {
  listeners: Record<string, unknown>;
  routes: Record<string, unknown>;
  clusters: Record<string, unknown>;
  endpoints: Record<string, unknown>;
}

export function translateManifests(
  inputs: readonly { file: string; text: string }[],
  type: TranslateType,
  options: MeshOptions = {},
): Translation {
  const objects = [];
  const problems: string[] = [];
  for (const { file, text } of inputs) {
    const parsed = parseManifests(text, file);
    objects.push(...parsed.objects);
    problems.push(...parsed.problems.map(formatProblem));
  }
  const built = snapshotFromObjects(objects);
  problems.push(...built.problems.map(formatProblem));
  const state = deriveMeshState(built.snapshot, options);
  const out: Translation = { notes: [], problems };
  if (type === 'all' || type === 'wds') {
    const wds = translateState(state);
    out.wds = {
      addresses: byName(AddressSchema, wds.addresses),
      authorizations: byName(AuthorizationSchema, wds.authorizations),
    };
    out.notes.push(...wds.notes);
  }
  if (type !== 'wds') {
    const envoyState = withRoutes(state, built.snapshot);
    if (type === 'all' || type === 'waypoint') {
      out.waypoints = {};
      for (const [key, waypoint] of envoyState.waypoints) {
        const r = waypointResources(envoyState, waypoint);
        out.waypoints[key] = envoyJson(r);
        out.notes.push(...r.notes);
      }
    }
    if (type === 'all' || type === 'gateway') {
      out.gateways = {};
      const index = workloadIndex(envoyState);
      for (const [key, gw] of ingressGateways(envoyState)) {
        const r = gatewayResources(envoyState, gw, index);
        out.gateways[key] = { ...envoyJson(r), secrets: [...r.secrets.keys()] };
        out.notes.push(...r.notes);
      }
    }
    if (type === 'all' || type === 'proxyless') {
      const r = proxylessResources(envoyState);
      out.proxyless = envoyJson(r);
      out.notes.push(...r.notes);
    }
  }
  return out;
}

function envoyJson(r: EnvoyResources): EnvoyJson {
  return {
    listeners: byName(ListenerSchema, r.listeners),
    routes: byName(RouteConfigurationSchema, r.routes),
    clusters: redactPrivateKeys(byName(ClusterSchema, r.clusters)),
    endpoints: byName(ClusterLoadAssignmentSchema, r.endpoints),
  };
}

function byName<Desc extends DescMessage>(
  schema: Desc,
  messages: ReadonlyMap<string, MessageShape<Desc>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of [...messages.keys()].sort())
    out[name] = toJson(schema, messages.get(name)!, { registry: apiRegistry });
  return out;
}
