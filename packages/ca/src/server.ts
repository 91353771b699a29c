// The CA behind gRPC over TLS: istio.v1.auth.IstioCertificateService/CreateCertificate, with a
// serving certificate issued by the CA itself and re-issued at half its lifetime.
import {
  experimental,
  Server,
  status,
  type Metadata,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { grpcService } from '@trellis/api';
import {
  IstioCertificateResponseSchema,
  IstioCertificateService,
  type IstioCertificateRequest,
  type IstioCertificateResponse,
} from '@trellis/api/gen/istio/v1/auth/ca_pb.js';
import { listenGrpc, type GrpcListener, type Logger } from '@trellis/core';
import { formatSpiffeId } from '@trellis/pki';
import { CaError, type CertificateAuthority } from './authority.js';
import { issueServingCert } from './serving-cert.js';
import { RotatingCertificateProvider } from './tls-provider.js';

export interface CaServerOptions {
  readonly ca: CertificateAuthority;
  /** Address to listen on; port 0 picks a free one. */
  readonly host: string;
  readonly port: number;
  /** DNS SANs of the serving certificate; default istiod.istio-system.svc, trellis-ca. */
  readonly dnsNames?: readonly string[];
  /** Identity in the serving certificate; default spiffe://<td>/ns/istio-system/sa/istiod. */
  readonly spiffeId?: string;
  /** Serving certificate lifetime; default 24 h, re-issued at half of it. */
  readonly servingTtlMs?: number;
  readonly logger?: Logger;
}

export interface CaServer {
  readonly port: number;
  readonly server: Server;
  /** Its connections, for a lifecycle to drain (Lifecycle.addServer). */
  readonly listener: GrpcListener;
  /** The current serving certificate chain, leaf first. */
  servingChain(): readonly string[];
  /** Re-issues the serving certificate now (also done automatically at half its lifetime). */
  rotateServingCert(): Promise<void>;
  /**
   * Stops accepting, lets calls in flight finish for up to `drainMs` (default 5 s), then closes
   * every connection, including any still in (or never starting) its TLS handshake.
   */
  close(drainMs?: number): Promise<void>;
}

const CODES: Record<CaError['code'], status> = {
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  INTERNAL: status.INTERNAL,
};

/** Reads the request and headers the CA needs (exported for reuse by an embedding server). */
export function signRequestFrom(request: IstioCertificateRequest, md: Metadata) {
  const header = (k: string) => {
    const v = md.get(k)[0];
    return typeof v === 'string' ? v : undefined;
  };
  const imp = request.metadata?.['ImpersonatedIdentity'] ?? header('impersonatedidentity');
  return {
    csr: request.csr,
    validitySeconds: request.validityDuration,
    authorization: header('authorization'),
    clusterId: header('clusterid'),
    impersonatedIdentity: typeof imp === 'string' ? imp : undefined,
  };
}

export function caServiceHandlers(ca: CertificateAuthority) {
  return {
    createCertificate(
      call: ServerUnaryCall<IstioCertificateRequest, IstioCertificateResponse>,
      callback: sendUnaryData<IstioCertificateResponse>,
    ) {
      ca.sign(signRequestFrom(call.request, call.metadata)).then(
        (certChain) => callback(null, create(IstioCertificateResponseSchema, { certChain })),
        (err: unknown) => {
          const e = err instanceof CaError ? err : new CaError('INTERNAL', String(err));
          callback({ code: CODES[e.code], details: e.message });
        },
      );
    },
  };
}

export async function createCaServer(o: CaServerOptions): Promise<CaServer> {
  const ttlMs = o.servingTtlMs ?? 24 * 3600 * 1000;
  const issue = () =>
    issueServingCert({
      issuer: o.ca.issuer,
      dnsNames: o.dnsNames ?? ['istiod.istio-system.svc', 'trellis-ca'],
      ips: o.host ? [o.host] : ['127.0.0.1'],
      spiffeId:
        o.spiffeId ??
        formatSpiffeId({
          trustDomain: o.ca.trustDomain,
          namespace: 'istio-system',
          serviceAccount: 'istiod',
        }),
      ttlMs,
    });
  let serving = await issue();
  const provider = new RotatingCertificateProvider(o.ca.rootPem, serving.key, serving.chain);
  const server = new Server();
  server.addService(grpcService(IstioCertificateService), caServiceHandlers(o.ca));
  const creds = experimental.createCertificateProviderServerCredentials(provider, provider, false);
  let listener: GrpcListener;
  try {
    listener = await listenGrpc(server, creds, { host: o.host, port: o.port });
  } catch (err) {
    const address = o.host.includes(':')
      ? `[${o.host}]:${o.port}`
      : `${o.host || '0.0.0.0'}:${o.port}`;
    throw new Error(`cannot listen on ${address}: ${(err as Error).message}`, { cause: err });
  }

  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    const delay = Math.max(1000, (serving.notAfter.getTime() - Date.now()) / 2);
    timer = setTimeout(
      () =>
        void rotate().catch((err: Error) =>
          o.logger?.error({ err: err.message }, 'serving certificate rotation failed'),
        ),
      Math.min(delay, 2 ** 31 - 1),
    );
    timer.unref();
  };
  const rotate = async () => {
    clearTimeout(timer);
    serving = await issue();
    provider.update(serving.key, serving.chain);
    o.logger?.info({ notAfter: serving.notAfter.toISOString() }, 'serving certificate rotated');
    schedule();
  };
  schedule();

  return {
    port: listener.port,
    server,
    listener,
    servingChain: () => serving.chain,
    rotateServingCert: rotate,
    close(drainMs = 5000) {
      clearTimeout(timer);
      return listener.close(drainMs);
    },
  };
}
