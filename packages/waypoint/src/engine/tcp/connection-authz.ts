// The RBAC input of a TCP connection (network RBAC): addresses and peer identity, no HTTP parts.
import type { ConnectionInfo } from '../proxy/context.js';
import type { AuthzInput } from '../rbac/input.js';

export function authzInputForConnection(conn: ConnectionInfo): AuthzInput {
  return {
    destinationIp: conn.destinationAddress,
    destinationPort: conn.destinationPort,
    directRemoteIp: conn.sourceAddress,
    remoteIp: conn.remoteAddress,
    ...(conn.peerPrincipal ? { peerPrincipal: conn.peerPrincipal } : {}),
    ...(conn.sni ? { requestedServerName: conn.sni } : {}),
    metadata: new Map(),
  };
}
