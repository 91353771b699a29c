// Opening one client HBONE connection: TCP (optionally bound to the source IP, or from an injected
// socket factory), TLS 1.3 with ALPN h2 checking the server's SPIFFE identity, then an HTTP/2 session
// with HBONE's windows.
import http2, { type ClientHttp2Session } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { mtlsClientOptions, peerSpiffeId, type TrustBundle } from '@trellis/pki';
import { formatAuthority } from './authority.pure.js';
import { HboneConnectError } from './errors.js';
import { CONNECTION_WINDOW_BYTES, H2_SETTINGS, MAX_SESSION_MEMORY_MB } from './settings.js';

/** The client's own workload credentials and the roots it trusts. */
export interface ClientCredentials {
  readonly key: string;
  /** Leaf first, then intermediates. */
  readonly certChain: string | readonly string[];
  readonly trustBundle: TrustBundle;
}

export interface SocketRequest {
  readonly host: string;
  readonly port: number;
  /** The source IP to bind, when the caller gave one. */
  readonly localAddress?: string;
  /** Aborted when the connect attempt times out; a factory should then give up and close its socket. */
  readonly signal: AbortSignal;
}

/** Makes the connected TCP socket for a new HBONE connection (e.g. netsys.connectInNetns). */
export type SocketFactory = (request: SocketRequest) => Promise<net.Socket>;

export interface OpenConnectionOptions {
  readonly credentials: ClientCredentials;
  readonly destinationIdentity: string;
  readonly sourceIp?: string;
  readonly destinationIp: string;
  readonly port: number;
  readonly connectSocket: SocketFactory;
  readonly timeoutMs: number;
}

export interface OpenConnection {
  readonly session: ClientHttp2Session;
  /** The server's SPIFFE ID, as verified in the handshake. */
  readonly peerIdentity: string;
  /** `ip:port` of the HBONE server, for messages. */
  readonly via: string;
}

/** The default SocketFactory: net.connect, bound to localAddress when given. */
export const connectTcp: SocketFactory = (request) =>
  new Promise((resolve, reject) => {
    const socket = net.connect({
      host: request.host,
      port: request.port,
      noDelay: true,
      signal: request.signal,
      ...(request.localAddress ? { localAddress: request.localAddress } : {}),
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });

export async function openConnection(options: OpenConnectionOptions): Promise<OpenConnection> {
  const via = formatAuthority({ address: options.destinationIp, port: options.port });
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new Error(`no TCP connection and TLS handshake within ${options.timeoutMs} ms`),
      ),
    options.timeoutMs,
  );
  try {
    const socket = await options.connectSocket({
      host: options.destinationIp,
      port: options.port,
      ...(options.sourceIp ? { localAddress: options.sourceIp } : {}),
      signal: controller.signal,
    });
    const tlsSocket = await handshake(socket, options, controller.signal);
    const session = http2.connect(`https://${via}`, {
      createConnection: () => tlsSocket,
      settings: H2_SETTINGS,
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
    });
    session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
    return { session, peerIdentity: peerSpiffeId(tlsSocket).uri, via };
  } catch (err) {
    const reason = controller.signal.aborted ? (controller.signal.reason as Error) : (err as Error);
    throw new HboneConnectError(`HBONE connection to ${via} failed: ${reason.message}`, {
      cause: reason,
    });
  } finally {
    clearTimeout(timer);
  }
}

function handshake(
  socket: net.Socket,
  options: OpenConnectionOptions,
  signal: AbortSignal,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const tlsOptions = mtlsClientOptions({
      ...options.credentials,
      expectedIdentity: options.destinationIdentity,
    });
    const tlsSocket = tls.connect({
      socket,
      ...tlsOptions,
      secureContext: secureContextFor(options.credentials, tlsOptions),
      ALPNProtocols: ['h2'],
    });
    const fail = (err: Error): void => {
      signal.removeEventListener('abort', onAbort);
      tlsSocket.destroy();
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    tlsSocket.once('error', fail);
    tlsSocket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      tlsSocket.off('error', fail);
      if (tlsSocket.alpnProtocol !== 'h2') {
        fail(
          new Error(
            `the server did not negotiate ALPN "h2" (got ${String(tlsSocket.alpnProtocol)})`,
          ),
        );
        return;
      }
      resolve(tlsSocket);
    });
  });
}

/**
 * The TLS context of a set of credentials, made once per certificate: node:tls otherwise makes one
 * per connect from the key, chain and trust bundle text, milliseconds of CPU each. Kept by the
 * chain array, which a ztunnel's identity manager hands out once per certificate (a rotated
 * certificate is a new array, and the old context goes with the old array); a chain given as one
 * string gets a context per connect, as before.
 */
function secureContextFor(
  credentials: ClientCredentials,
  options: tls.SecureContextOptions,
): tls.SecureContext {
  const chain = credentials.certChain;
  if (typeof chain === 'string') return tls.createSecureContext(options);
  const known = contexts.get(chain);
  if (known?.key === credentials.key && known.trustBundle === credentials.trustBundle)
    return known.context;
  const context = tls.createSecureContext(options);
  contexts.set(chain, { key: credentials.key, trustBundle: credentials.trustBundle, context });
  return context;
}
const contexts = new WeakMap<
  readonly string[],
  { key: string; trustBundle: TrustBundle; context: tls.SecureContext }
>();
