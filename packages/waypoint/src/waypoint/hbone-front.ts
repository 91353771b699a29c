// The waypoint's front door: the HBONE server on 15008 with the waypoint's certificate. Each
// CONNECT names where the client was going (a service VIP or a workload IP, and a port); the
// listener's filter chain for that target serves the tunnel in-process (HTTP/1.1, h2c/gRPC, or TCP
// passthrough), so the waypoint serves exactly the services and workloads the control plane gave
// it chains for (its Gateway's istio.io/waypoint-for). No chain, or network RBAC saying no: 401.
import { HboneServer, parseForwardedFor, type ConnectRequest } from '@trellis/hbone';
import type { Meter } from '@opentelemetry/api';
import type { Logger } from '@trellis/core';
import type { ChainRuntime, Engine } from '../engine/engine.js';
import type { ConnectionInfo } from '../engine/proxy/context.js';
import { peerLabels } from '../engine/telemetry/peer.js';
import type { WaypointIdentity } from './identity.js';

export interface HboneFrontOptions {
  readonly engine: Engine;
  readonly identity: WaypointIdentity;
  /** The listener whose chains serve HBONE tunnels. */
  readonly listener: () => string | undefined;
  readonly logger: Logger;
  readonly meter?: Meter;
}

export function createHboneFront(o: HboneFrontOptions): HboneServer {
  const admitted = new WeakMap<ConnectRequest, { chain: ChainRuntime; conn: ConnectionInfo }>();
  const server = new HboneServer({
    trustBundle: o.identity.trustBundle,
    logger: o.logger,
    ...(o.meter ? { meter: o.meter } : {}),
    async certificateFor() {
      const c = await o.identity.certificate();
      return { key: c.key, certChain: c.chain };
    },
    onConnect(req) {
      const listener = o.listener();
      if (listener === undefined) return { allow: false, reason: 'no configuration yet' };
      const conn = connectionInfo(req);
      const chain = o.engine.selectChain(listener, {
        destinationAddress: req.target.address,
        destinationPort: req.target.port,
        sourceAddress: req.source.address,
        sourcePort: req.source.port,
        transportProtocol: 'raw_buffer',
        applicationProtocols: [],
      });
      if (!chain)
        return {
          allow: false,
          reason: `this waypoint does not serve ${req.target.address}:${req.target.port}`,
        };
      // TLS termination in a filter chain is the gateway role's; a waypoint never serves one.
      if (chain.model.tls)
        return { allow: false, reason: `chain ${chain.name} terminates TLS (gateway only)` };
      if (!o.engine.admits(chain, conn))
        return { allow: false, reason: `denied by network policy (${chain.name})` };
      admitted.set(req, { chain, conn });
      return { allow: true };
    },
    terminate(tunnel, req) {
      const a = admitted.get(req);
      if (!a) {
        tunnel.destroy();
        return;
      }
      admitted.delete(req);
      o.engine.serve(a.chain, tunnel, a.conn);
    },
  });
  server.on('clientError', (err, socket) =>
    o.logger.debug({ err: err.message, peer: socket.remoteAddress }, 'HBONE connection refused'),
  );
  return server;
}

function connectionInfo(req: ConnectRequest): ConnectionInfo {
  const forwarded = req.headers.forwarded ? parseForwardedFor(req.headers.forwarded) : undefined;
  return {
    sourceAddress: req.source.address,
    sourcePort: req.source.port,
    remoteAddress: forwarded?.address ?? req.source.address,
    destinationAddress: req.target.address,
    destinationPort: req.target.port,
    localAddress: `${req.destination.address}:${req.destination.port}`,
    peerPrincipal: req.peer.uri,
    security: 'mutual_tls',
    peer: peerLabels(req.peer.uri, req.headers.baggage),
    ...(req.headers.traceparent ? { traceparent: req.headers.traceparent } : {}),
  };
}
