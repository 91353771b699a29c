// How the waypoint reaches an endpoint: over HBONE to <podIP>:15008 with the waypoint's own
// identity, requiring the identity the endpoint's metadata names (pooled HBONE connections, one
// CONNECT stream per upstream connection); endpoints outside the mesh get plain TCP. A cluster with
// an UpstreamTlsContext gets TLS over either (upstream-tls.ts).
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { formatAuthority, HboneStatusError, type HboneClient } from '@trellis/hbone';
import type { ClusterConfig, EndpointConfig } from '../engine/model/cluster.js';
import type { Connector } from '../engine/upstream/stream.js';
import type { WaypointIdentity } from './identity.js';
import { originateTls } from './upstream-tls.js';

export function hboneConnector(o: {
  client: HboneClient;
  identity: WaypointIdentity;
  hbonePort: number;
}): Connector {
  return {
    async connect(e: EndpointConfig, cluster: ClusterConfig, signal: AbortSignal): Promise<Duplex> {
      const stream = await reach(e, signal);
      return cluster.tls ? originateTls(stream, cluster.tls, signal) : stream;
    },
  };

  async function reach(e: EndpointConfig, signal: AbortSignal): Promise<Duplex> {
    if (!e.hbone) return tcpConnect(e.address, e.port, signal);
    const source = await o.identity.credentials();
    const p = o.client.connect({
      source,
      destinationIdentity: e.identity!,
      destinationIp: e.address,
      hbonePort: o.hbonePort,
      target: formatAuthority({ address: e.address, port: e.port }),
    });
    return abortable(p, signal).catch((err: Error) => {
      throw err instanceof HboneStatusError
        ? new Error(`HBONE ${err.status} from ${e.address}`)
        : err;
    });
  }
}

/** Plain TCP (also what a gateway uses for endpoints outside the mesh). */
export function tcpConnect(host: string, port: number, signal: AbortSignal): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    const onAbort = () => {
      s.destroy();
      reject(signal.reason instanceof Error ? signal.reason : new Error('connect aborted'));
    };
    const onError = (err: Error) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    s.once('error', onError);
    s.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      s.off('error', onError);
      resolve(s);
    });
  });
}

function abortable<T extends Duplex>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.then(
      (d) => d.destroy(),
      () => undefined,
    );
    return Promise.reject(signal.reason as Error);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      p.then(
        (d) => d.destroy(),
        () => undefined,
      );
      reject(signal.reason instanceof Error ? signal.reason : new Error('connect aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (d) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) d.destroy();
        else resolve(d);
      },
      (err: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
