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
  const client = new Ca(
    o.address,
    credentials.createSsl(Buffer.from(o.rootPem)),
    o.serverName
      ? { 'grpc.ssl_target_name_override': o.serverName, 'grpc.default_authority': o.serverName }
      : {},
  );
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
          (err: ServiceError | null, r?: IstioCertificateResponse) =>
            err || !r ? reject(err ?? new Error('empty response')) : resolve(r),
        ),
      );
      return [...res.certChain];
    },
    close: () => client.close(),
  };
}
