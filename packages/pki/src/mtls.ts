// node:tls options for SPIFFE mutual TLS (TLS 1.3 only, both sides present certificates, the
// bundle's roots are the only CAs) and a server that hands over only peers passing the policy.
//
// Chain trust (signatures, validity, CA flags) is enforced by OpenSSL during the handshake. The
// SPIFFE rules OpenSSL does not know (exactly one URI SAN, trust domain, authorization) run:
//  - on the client, inside the handshake via checkServerIdentity: the connect fails with a
//    PeerRejectedError whose message says why;
//  - on the server, right after the handshake (node:tls offers no hook inside it). createMtlsServer
//    checks every peer before anything is read or written, destroys refused sockets and emits
//    'tlsClientError' with a PeerRejectedError. It runs OpenSSL with rejectUnauthorized: false so
//    that a refused chain still reaches its check and the reason (expired, untrusted root, ...)
//    is reported instead of Node's bare "socket hang up"; no unverified socket is ever handed out.
//    Servers built from mtlsServerOptions elsewhere (e.g. http2) keep rejectUnauthorized: true and
//    call verifyPeer on each new socket for the SPIFFE rules.
import tls from 'node:tls';
import type { TrustBundle } from './bundle.js';
import {
  spiffeServerIdentityCheck,
  verifyPeer,
  PeerRejectedError,
  type PeerPolicy,
} from './peer.js';
import type { SpiffeId } from './spiffe.js';

export interface MtlsCredentials {
  /** Private key PEM. */
  readonly key: string;
  /** Own certificate first, then its intermediates (the root may be included). */
  readonly certChain: string | readonly string[];
  readonly trustBundle: TrustBundle;
}

export type MtlsServerConfig = MtlsCredentials & Omit<PeerPolicy, 'trustBundle'>;

/** A client must name who it expects: an exact SPIFFE ID, an authorize callback, or both. */
export type MtlsClientConfig = MtlsCredentials &
  Omit<PeerPolicy, 'trustBundle'> &
  ({ readonly expectedIdentity: string } | { readonly authorize: (peer: SpiffeId) => boolean });

/** Server options: TLS 1.3, client certificate required and verified against the bundle. */
export function mtlsServerOptions(config: MtlsCredentials): tls.TlsOptions {
  return { ...common(config), requestCert: true, rejectUnauthorized: true };
}

/** Client options: TLS 1.3, server verified against the bundle and checked by SPIFFE ID, not DNS name. */
export function mtlsClientOptions(config: MtlsClientConfig): tls.ConnectionOptions {
  if (config.expectedIdentity === undefined && config.authorize === undefined) {
    throw new Error(
      'mtlsClientOptions: give expectedIdentity or authorize; a client must check who the server is',
    );
  }
  return {
    ...common(config),
    rejectUnauthorized: true,
    checkServerIdentity: spiffeServerIdentityCheck(config),
  };
}

/**
 * A tls.Server that calls `onConnection` only for peers passing the SPIFFE checks and `authorize`.
 * Refused peers are destroyed and reported with server.on('tlsClientError', (err, socket) => ...).
 */
export function createMtlsServer(
  config: MtlsServerConfig,
  onConnection: (socket: tls.TLSSocket, peer: SpiffeId) => void,
): tls.Server {
  const server = tls.createServer({ ...mtlsServerOptions(config), rejectUnauthorized: false });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    const check = verifyPeer(socket, config);
    if (check.ok) {
      onConnection(socket, check.spiffeId);
      return;
    }
    socket.destroy();
    server.emit('tlsClientError', new PeerRejectedError(check.reason), socket);
  });
  return server;
}

function common(config: MtlsCredentials): tls.SecureContextOptions {
  const chain = typeof config.certChain === 'string' ? [config.certChain] : config.certChain;
  if (chain.length === 0)
    throw new Error('certChain is empty: give the certificate (and its intermediates) as PEM');
  return {
    key: config.key,
    // One string: node:tls reads an array as several chains, one per key.
    cert: chain.map((pem) => pem.trim() + '\n').join(''),
    ca: config.trustBundle.pem,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
  };
}
