// Waypoints: Gateways that ztunnel can send traffic through.
import type { Gateway } from '../model/gateway-api.js';
import type { ClusterSnapshot, Pod } from '../model/kube.js';
import type { ResolvedMeshOptions } from '../model/options.js';
import type {
  GatewayAddressInfo,
  WaypointInfo,
  WaypointTrafficType,
} from '../model/waypoint-info.js';
import { HBONE_PORT, LABEL_GATEWAY_NAME, LABEL_WAYPOINT_FOR } from '../model/well-known.js';
import { groupBy } from './index-by.js';
import { labelsOf, nameOf, namespaceOf } from './meta.js';
import { isIP } from './ip-text.js';

/**
 * A Gateway is a waypoint when its status has an address (Istio's rule: the deployment controller
 * publishes one once the waypoint is ready), or when its class is a waypoint class, in which case
 * the address is the hostname of the Service the waypoint controller creates for it.
 */
export function deriveWaypoints(
  snapshot: ClusterSnapshot,
  options: ResolvedMeshOptions,
): Map<string, WaypointInfo> {
  const instancesByGateway = groupBy(snapshot.pods, (p) => {
    const gw = labelsOf(p)[LABEL_GATEWAY_NAME];
    return gw ? `${namespaceOf(p)}/${gw}` : undefined;
  });
  const result = new Map<string, WaypointInfo>();
  for (const gw of snapshot.gateways) {
    const info = waypointFromGateway(
      gw,
      instancesByGateway.get(`${namespaceOf(gw)}/${nameOf(gw)}`) ?? [],
      options,
    );
    if (info) result.set(info.key, info);
  }
  return result;
}

export function waypointFromGateway(
  gw: Gateway,
  instances: readonly Pod[],
  options: ResolvedMeshOptions,
): WaypointInfo | undefined {
  const name = nameOf(gw);
  const namespace = namespaceOf(gw);
  const gatewayClassName = gw.spec.gatewayClassName;
  // An ingress gateway has status addresses too, but takes no mesh traffic as a waypoint.
  if (options.gatewayClasses.includes(gatewayClassName)) return undefined;
  const address =
    statusAddress(gw, options.network) ??
    (options.waypointClasses.includes(gatewayClassName)
      ? {
          kind: 'hostname' as const,
          namespace,
          hostname: `${name}.${namespace}.svc.${options.domainSuffix}`,
          hbonePort: HBONE_PORT,
        }
      : undefined);
  if (!address) return undefined;
  const hbone = gw.spec.listeners.find((l) => l.protocol === 'HBONE' && l.port === HBONE_PORT);
  const serviceAccounts = [
    ...new Set(instances.map((p) => p.spec?.serviceAccountName || 'default')),
  ].sort();
  const info: WaypointInfo = {
    name,
    namespace,
    key: `${namespace}/${name}`,
    gatewayClassName,
    address,
    trafficType: trafficTypeOf(labelsOf(gw)[LABEL_WAYPOINT_FOR]),
    // Without the HBONE listener nothing may bind (Gateway API's default is the same namespace).
    allowedNamespaces: hbone?.allowedRoutes.namespaces ?? { from: 'Same' },
    serviceAccounts,
  };
  return info;
}

/** Hostname addresses are preferred: they are stable where IPs can be reallocated. */
function statusAddress(gw: Gateway, network: string): GatewayAddressInfo | undefined {
  const addresses = gw.status.addresses;
  const host = addresses.find((a) => a.type === 'Hostname' && a.value);
  if (host)
    return {
      kind: 'hostname',
      namespace: namespaceOf(gw),
      hostname: host.value,
      hbonePort: HBONE_PORT,
    };
  const ip = addresses.find((a) => a.type === 'IPAddress' && isIP(a.value));
  if (ip) return { kind: 'ip', network, ip: ip.value, hbonePort: HBONE_PORT };
  return undefined;
}

function trafficTypeOf(value: string | undefined): WaypointTrafficType {
  if (value === undefined) return 'service';
  return value === 'service' || value === 'workload' || value === 'all' ? value : 'none';
}
