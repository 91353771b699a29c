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
import type { HostPort, Logger } from '@trellis/core';
import { addAdsService, type AdsHandlers, type XdsServer } from '@trellis/xds';
import { authenticatedAdsHandlers } from './xds-auth.js';

export interface GrpcListener {
  readonly port: number;
  readonly server: Server;
  /** Stops accepting and waits for open calls (end xDS streams first with xds.close()). */
  close(): Promise<void>;
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
  const target = formatAddress(address);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(target, ServerCredentials.createInsecure(), (err, p) =>
      err
        ? reject(new Error(`--xds-address ${target}: cannot listen (${err.message})`))
        : resolve(p),
    ),
  );
  return { port, server, close: () => shutdown(server) };
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
  return { port: caServer.port, server: caServer.server, caServer, close: () => caServer.close() };
}

function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => server.tryShutdown(() => resolve()));
}
