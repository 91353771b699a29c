// One xDS server on loopback with real metrics (scraped over HTTP) and captured log lines.
import type { TestContext } from 'node:test';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL } from '@trellis/api';
import { createLogger, createMetrics } from '@trellis/core';
import { createDeltaClient } from '../client/delta-client.js';
import { createSotwClient } from '../client/sotw-client.js';
import type { XdsClient, XdsClientOptions } from '../client/types.js';
import { resourceSnapshotGenerator, type ResourceSnapshot } from '../server/generators.js';
import { createXdsServer, type XdsServerOptions } from '../server/server.js';
import { insecure, serveAds } from './loopback.js';

export const ZTUNNEL_NODE =
  'ztunnel~10.0.0.5~ztunnel-x7k2p.istio-system~istio-system.svc.cluster.local';

export async function harness(
  t: TestContext,
  opts: Partial<XdsServerOptions<ResourceSnapshot>> = {},
) {
  const metrics = await createMetrics({ host: '127.0.0.1', port: 0 });
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  const xds = createXdsServer<ResourceSnapshot>({
    generators: {
      [CLUSTER_TYPE_URL]: resourceSnapshotGenerator,
      [LISTENER_TYPE_URL]: resourceSnapshotGenerator,
      [ROUTE_CONFIGURATION_TYPE_URL]: resourceSnapshotGenerator,
    },
    debounce: { quietMs: 1, maxDelayMs: 50 },
    logger: log.scope('xds'),
    meter: metrics.meter('xds'),
    ...opts,
  });
  const grpc = await serveAds(xds);
  const clients: XdsClient[] = [];
  t.after(async () => {
    for (const c of clients) c.close();
    await xds.close(1000);
    grpc.kill();
    await metrics.stop();
  });

  const scrape = async () => (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text();
  const clientOptions = (node: string | XdsClientOptions['node']) => ({
    address: grpc.address,
    credentials: insecure,
    node: typeof node === 'string' ? { id: node } : node,
    backoff: { initialMs: 10, maxMs: 50 },
  });
  return {
    xds,
    grpc,
    lines,
    delta(node: string | XdsClientOptions['node'] = ZTUNNEL_NODE): XdsClient {
      const c = createDeltaClient(clientOptions(node));
      clients.push(c);
      return c;
    },
    sotw(nodeId = 'router~10.0.0.9~waypoint-0.prod~prod.svc.cluster.local'): XdsClient {
      const c = createSotwClient(clientOptions(nodeId));
      clients.push(c);
      return c;
    },
    /** The whole /metrics text. */
    scrape,
    /** The value of one Prometheus sample, e.g. metric('pilot_xds_pushes{type="cds"}'). */
    async metric(sample: string): Promise<number | undefined> {
      const text = await scrape();
      const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
      return line === undefined ? undefined : Number(line.slice(sample.length + 1));
    },
    /** The debug entry of the type on the (single) connection of `proxyId`. */
    typeDebug(proxyId: string, typeUrl: string) {
      return xds
        .debug()
        .find((c) => c.proxyId === proxyId)
        ?.types.find((x) => x.typeUrl === typeUrl);
    },
  };
}
