// The two gRPC listeners: 15010 (plaintext xDS, meant for 127.0.0.1) and 15012 (TLS with a
// certificate issued by the embedded CA, serving IstioCertificateService and xDS side by side,
// xDS streams authenticated like CA calls, and their node ids held to the caller's namespace).
import { Server, ServerCredentials } from '@grpc/grpc-js';
import {
  createCaServer,
  type Authenticator,
  type CaServer,
  type CertificateAuthority,
} from '@trellis/ca';
import { listenGrpc, type HostPort, type Logger } from '@trellis/core';
import { addAdsService, type AdsHandlers, type XdsServer } from '@trellis/xds';
import { authenticatedAdsHandlers } from './xds-auth.js';

export interface GrpcListener {
  readonly port: number;
  readonly server: Server;
  /**
   * Stops accepting, lets open calls finish for up to `drainMs` (end xDS streams first with
   * xds.close()), then closes every connection, including those still in a handshake.
   */
  close(drainMs: number): Promise<void>;
}

export function formatAddress({ host, port }: HostPort): string {
  if (host === '') return `0.0.0.0:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Plaintext ADS on `address`. */
export async function startPlaintextXds(
  address: HostPort,
  xds: { readonly handlers: AdsHandlers },
): Promise<GrpcListener> {
  const server = new Server();
  addAdsService(server, xds);
  try {
    const listener = await listenGrpc(server, ServerCredentials.createInsecure(), address);
    return { port: listener.port, server, close: (drainMs) => listener.close(drainMs) };
  } catch (err) {
    throw new Error(
      `--xds-address ${formatAddress(address)}: cannot listen (${(err as Error).message})`,
      { cause: err },
    );
  }
}

export interface SecureServerOptions {
  readonly address: HostPort;
  readonly ca: CertificateAuthority;
  readonly xds: Pick<XdsServer<unknown>, 'admittingHandlers'>;
  readonly authenticator: Authenticator;
  readonly dnsNames: readonly string[];
  readonly logger?: Logger;
}

/** TLS on `address`: the CA service and authenticated ADS on one gRPC server. */
export async function startSecureServer(
  o: SecureServerOptions,
): Promise<GrpcListener & { readonly caServer: CaServer }> {
  let caServer: CaServer;
  try {
    caServer = await createCaServer({
      ca: o.ca,
      host: o.address.host,
      port: o.address.port,
      dnsNames: o.dnsNames,
      ...(o.logger ? { logger: o.logger } : {}),
    });
  } catch (err) {
    throw new Error(`--secure-xds-address ${formatAddress(o.address)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  addAdsService(caServer.server, {
    handlers: authenticatedAdsHandlers(o.xds, {
      authenticator: o.authenticator,
      trustDomain: o.ca.trustDomain,
      ...(o.logger ? { logger: o.logger } : {}),
    }),
  });
  return {
    port: caServer.port,
    server: caServer.server,
    caServer,
    close: (drainMs) => caServer.close(drainMs),
  };
}
