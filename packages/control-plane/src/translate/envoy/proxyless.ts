// Resources for proxyless gRPC clients (gRFC A27/A28): for every TCP port of every Service, an API
// listener `<hostname>:<port>` (plus `<name>.<ns>:<port>` and `<name>.<ns>.svc:<port>`), the
// RouteConfiguration `<hostname>:<port>` from GAMMA routes, the EDS cluster
// `outbound|<port>||<hostname>` and its endpoints. The same set serves every proxyless client.
import type { ServiceInfo, ServicePortInfo } from '../../model/service-info.js';
import { edsCluster } from './clusters.js';
import { clusterLoadAssignment, workloadsByService } from './endpoints.js';
import { apiListener } from './listeners.js';
import { clusterName, routeConfigName } from './names.js';
import { NoteSink } from './notes.js';
import { sortedByName, type EnvoyResources } from './resources.js';
import { routeAttachments } from './route-attachment.js';
import { routeConfiguration, servicePortRoutes } from './route-config.js';
import type { RouteContext } from './route-context.js';
import type { EnvoyState } from './state.js';

/**
 * `clientNamespace`: the namespace of the clients the set is for, when known (Istio node ids name
 * it); their namespace's consumer routes replace the producer routes of the Services they name.
 */
export function proxylessResources(state: EnvoyState, clientNamespace?: string): EnvoyResources {
  const notes = new NoteSink();
  const ctx: RouteContext = {
    target: 'grpc',
    services: state.services,
    domainSuffix: state.options.domainSuffix,
    notes,
    clusters: new Map(),
  };
  const routes = routeAttachments(state);
  const listeners: EnvoyResources['listeners'] = new Map();
  const routeConfigs: EnvoyResources['routes'] = new Map();
  for (const service of state.services.values()) {
    for (const port of tcpPorts(service)) {
      const rds = routeConfigName(service.hostname, port.port);
      for (const host of listenerHosts(service))
        listeners.set(`${host}:${port.port}`, apiListener(`${host}:${port.port}`, rds));
      routeConfigs.set(
        rds,
        routeConfiguration(
          rds,
          servicePortRoutes(
            service,
            port,
            routes.forServicePort(service, port, clientNamespace),
            ctx,
          ),
        ),
      );
      const cluster = clusterName(service.hostname, port.port);
      ctx.clusters.set(cluster, { cluster, service, port });
    }
  }
  const byService = workloadsByService(state);
  const clusters: EnvoyResources['clusters'] = new Map();
  const endpoints: EnvoyResources['endpoints'] = new Map();
  for (const { cluster, service, port } of ctx.clusters.values()) {
    clusters.set(cluster, edsCluster(cluster, { http2: false }));
    endpoints.set(
      cluster,
      clusterLoadAssignment(cluster, service, port, byService.get(service.key) ?? [], {
        meshMetadata: false,
      }),
    );
  }
  return {
    listeners: sortedByName(listeners),
    routes: sortedByName(routeConfigs),
    clusters: sortedByName(clusters),
    endpoints: sortedByName(endpoints),
    notes: notes.notes,
  };
}

function listenerHosts(s: ServiceInfo): string[] {
  return [s.hostname, `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`];
}

export function tcpPorts(s: ServiceInfo): ServicePortInfo[] {
  return s.ports.filter((p) => (p.protocol || 'TCP') === 'TCP');
}
