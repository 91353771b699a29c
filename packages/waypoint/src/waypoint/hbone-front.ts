// The waypoint's front door: the HBONE server on 15008 with the waypoint's certificate. Each
// CONNECT names where the client was going (a service VIP or a workload IP, and a port); the
// listener's filter chain for that target serves the tunnel in-process (HTTP/1.1, h2c/gRPC, or TCP
// passthrough), so the waypoint serves exactly the services and workloads the control plane gave
// it chains for (its Gateway's istio.io/waypoint-for). No chain, or network RBAC saying no: 401.
// A target with both an HTTP chain (application_protocols http/1.1, h2c) and a TCP chain — the
// workload-addressed `direct-http` / `direct-tcp` pair — is accepted, then the first bytes pick
// the chain (detect-protocol.ts); network RBAC of a TCP chain chosen that way closes the tunnel.
import { HboneServer, parseForwardedFor, type ConnectRequest } from '@trellis/hbone';
import type { Meter } from '@opentelemetry/api';
import type { Logger } from '@trellis/core';
import type { ChainRuntime, Engine } from '../engine/engine.js';
import type { ConnectionInfo } from '../engine/proxy/context.js';
import { peerLabels } from '../engine/telemetry/peer.js';
import { detectAppProtocol, HTTP_APP_PROTOCOLS } from './detect-protocol.js';
import type { WaypointIdentity } from './identity.js';

export interface HboneFrontOptions {
  readonly engine: Engine;
  readonly identity: WaypointIdentity;
  /** The listener whose chains serve HBONE tunnels. */
  readonly listener: () => string | undefined;
  readonly logger: Logger;
  readonly meter?: Meter;
  /** How long protocol detection waits for the client's first bytes (then: TCP). */
  readonly detectionTimeoutMs?: number;
}

/** A client that says nothing for this long is taken for a server-first (TCP) protocol. */
export const DETECTION_TIMEOUT_MS = 1_000;

interface Admitted {
  /** The chain without application protocols (TCP, or the only one). */
  readonly chain: ChainRuntime | undefined;
  /** An HTTP chain for the same target, chosen when the first bytes are HTTP. */
  readonly http?: ChainRuntime;
  readonly conn: ConnectionInfo;
}

export function createHboneFront(o: HboneFrontOptions): HboneServer {
  const admitted = new WeakMap<ConnectRequest, Admitted>();
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
      const facts = {
        destinationAddress: req.target.address,
        destinationPort: req.target.port,
        sourceAddress: req.source.address,
        sourcePort: req.source.port,
        transportProtocol: 'raw_buffer',
        applicationProtocols: [],
      };
      const chain = o.engine.selectChain(listener, facts);
      // A target with an HTTP chain besides this one (workload-addressed traffic: direct-http
      // and direct-tcp) is decided by the first bytes, after the 200.
      const http = o.engine.selectChain(listener, {
        ...facts,
        applicationProtocols: HTTP_APP_PROTOCOLS,
      });
      if (!chain && !http)
        return {
          allow: false,
          reason: `this waypoint does not serve ${req.target.address}:${req.target.port}`,
        };
      // TLS termination in a filter chain is the gateway role's; a waypoint never serves one.
      for (const c of [chain, http])
        if (c?.model.tls)
          return { allow: false, reason: `chain ${c.name} terminates TLS (gateway only)` };
      if (http && http !== chain) {
        admitted.set(req, { chain, http, conn });
        return { allow: true };
      }
      if (!o.engine.admits(chain!, conn))
        return { allow: false, reason: `denied by network policy (${chain!.name})` };
      admitted.set(req, { chain: chain!, conn });
      return { allow: true };
    },
    terminate(tunnel, req) {
      const a = admitted.get(req);
      if (!a) {
        tunnel.destroy();
        return;
      }
      admitted.delete(req);
      const { http, conn } = a;
      if (!http) {
        o.engine.serve(a.chain!, tunnel, conn);
        return;
      }
      detectAppProtocol(tunnel, o.detectionTimeoutMs ?? DETECTION_TIMEOUT_MS, (p, initial) => {
        const chain = p === 'tcp' ? a.chain : http;
        const codec = p === 'h2c' ? 'http2' : 'http1';
        const served =
          chain !== undefined &&
          o.engine.serve(chain, tunnel, conn, 'http', {
            initial,
            ...(p === 'tcp' ? {} : { codec }),
          });
        if (served) return;
        o.logger.debug(
          { target: `${req.target.address}:${req.target.port}`, protocol: p },
          chain ? `denied by network policy (${chain.name})` : 'no chain for this protocol',
        );
        tunnel.destroy();
      });
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
