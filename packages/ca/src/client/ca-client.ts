// A CreateCertificate client over TLS that trusts only the given root and sends the bearer token.
import { readFile } from 'node:fs/promises';
import { create } from '@bufbuild/protobuf';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { grpcClientConstructor } from '@trellis/api';
import {
  IstioCertificateRequestSchema,
  IstioCertificateService,
  type IstioCertificateResponse,
} from '@trellis/api/gen/istio/v1/auth/ca_pb.js';

export interface CaClientOptions {
  /** host:port of the CA, e.g. "127.0.0.1:15012". */
  readonly address: string;
  /** Root certificate(s) the CA's TLS certificate must chain to, PEM. */
  readonly rootPem: string;
  /** The bearer token: a file path (re-read on every call, as tokens are rotated) or a function. */
  readonly token: string | (() => string | Promise<string>);
  /** Name checked against the CA's certificate; default the host of `address`. */
  readonly serverName?: string;
  readonly clusterId?: string;
  /** The longest wait between attempts to reach a CA that is not answering; default 5 s. */
  readonly maxReconnectDelayMs?: number;
  /** How long one request may take before it fails with DEADLINE_EXCEEDED; default 10 s. */
  readonly requestTimeoutMs?: number;
}

export interface CaClient {
  /** Sends a CSR; resolves to the chain (leaf first, root last) or rejects with the gRPC error. */
  createCertificate(
    csr: string,
    options?: { validitySeconds?: number; impersonatedIdentity?: string },
  ): Promise<string[]>;
  close(): void;
}

export function createCaClient(o: CaClientOptions): CaClient {
  const Ca = grpcClientConstructor(IstioCertificateService);
  const client = new Ca(o.address, credentials.createSsl(Buffer.from(o.rootPem)), {
    // A CA that went away (a control plane restart; a reinstall, while the cluster DNS still
    // answers its name with "no such name" from its cache) is reached again within seconds of
    // its return: grpc-js by default backs reconnects and failed lookups off up to 120 s, and
    // looks a resolved name up again at most every 30 s. Certificate requests are rare, so
    // trying often costs nothing.
    'grpc.max_reconnect_backoff_ms': o.maxReconnectDelayMs ?? 5000,
    'grpc.initial_reconnect_backoff_ms': Math.min(1000, o.maxReconnectDelayMs ?? 1000),
    'grpc.dns_min_time_between_resolutions_ms': Math.min(1000, o.maxReconnectDelayMs ?? 1000),
    ...(o.serverName
      ? { 'grpc.ssl_target_name_override': o.serverName, 'grpc.default_authority': o.serverName }
      : {}),
  });
  const token = async () =>
    typeof o.token === 'string' ? (await readFile(o.token, 'utf8')).trim() : await o.token();
  return {
    async createCertificate(csr, options = {}) {
      const md = new Metadata();
      md.set('authorization', `Bearer ${await token()}`);
      md.set('clusterid', o.clusterId ?? 'Kubernetes');
      const request = create(IstioCertificateRequestSchema, {
        csr,
        validityDuration: BigInt(options.validitySeconds ?? 0),
        ...(options.impersonatedIdentity
          ? { metadata: { ImpersonatedIdentity: options.impersonatedIdentity } }
          : {}),
      });
      const res = await new Promise<IstioCertificateResponse>((resolve, reject) =>
        client.createCertificate(
          request,
          md,
          { deadline: Date.now() + (o.requestTimeoutMs ?? 10_000) },
          (err: ServiceError | null, r?: IstioCertificateResponse) =>
            err || !r ? reject(err ?? new Error('empty response')) : resolve(r),
        ),
      );
      return [...res.certChain];
    },
    close: () => client.close(),
  };
}
