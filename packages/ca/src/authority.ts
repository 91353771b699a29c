// The certificate authority, independent of transport: authenticate the caller, decide the
// identity it may receive, check the CSR, sign. Embeddable; server.ts puts it behind gRPC.
import { performance } from 'node:perf_hooks';
import type { Meter } from '@opentelemetry/api';
import type { Logger } from '@trellis/core';
import {
  inspectCertificate,
  issueWorkloadCertificate,
  parseCsr,
  type CaCredentials,
  type ParsedCsr,
} from '@trellis/pki';
import { authorize } from './authorize.js';
import {
  AuthenticationError,
  formatServiceAccount,
  type Authenticator,
  type Caller,
  type NodeIndex,
  type ServiceAccountRef,
} from './caller.js';
import { csrProblem, grantedTtl } from './csr-policy.js';
import { caMetrics, type CaMetrics, type CsrResult } from './metrics.js';

export type CaErrorCode = 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | 'INVALID_ARGUMENT' | 'INTERNAL';

/** A refused request: the gRPC status code and a message saying why. */
export class CaError extends Error {
  override readonly name = 'CaError';
  constructor(
    readonly code: CaErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface SignRequest {
  /** PEM CSR. */
  readonly csr: string;
  /** Requested lifetime in seconds; 0 for the default. */
  readonly validitySeconds: bigint;
  /** The `authorization` header value ("Bearer <token>"). */
  readonly authorization?: string;
  /** The `ImpersonatedIdentity` the caller asks for, if any. */
  readonly impersonatedIdentity?: string;
  /** The `clusterid` header, for logs. */
  readonly clusterId?: string;
}

export interface CertificateAuthorityOptions {
  readonly issuer: CaCredentials;
  readonly rootPem: string;
  readonly trustDomain: string;
  readonly authenticator: Authenticator;
  readonly nodeIndex: NodeIndex;
  /** Node proxies allowed to impersonate pods on their node. Default [istio-system/ztunnel]. */
  readonly trustedNodeProxies?: readonly ServiceAccountRef[];
  /** Default 24 h. */
  readonly defaultTtlMs?: number;
  /** Default 24 h. */
  readonly maxTtlMs?: number;
  /** notBefore lies this far in the past; default 2 min. */
  readonly backdateMs?: number;
  readonly logger?: Logger;
  readonly meter?: Meter;
}

const DAY_MS = 24 * 3600 * 1000;
/** Longest CSR PEM parsed: ample for an RSA 4096 request, small enough to bound the work. */
const MAX_CSR_CHARS = 64 * 1024;

export class CertificateAuthority {
  readonly issuer: CaCredentials;
  readonly rootPem: string;
  readonly trustDomain: string;
  readonly #o: CertificateAuthorityOptions;
  readonly #metrics: CaMetrics;
  readonly #proxies: readonly ServiceAccountRef[];

  constructor(options: CertificateAuthorityOptions) {
    this.#o = options;
    this.issuer = options.issuer;
    this.rootPem = options.rootPem;
    this.trustDomain = options.trustDomain;
    this.#proxies = options.trustedNodeProxies ?? [
      { namespace: 'istio-system', serviceAccount: 'ztunnel' },
    ];
    const rootExpiry = inspectCertificate(options.rootPem).notAfter;
    this.#metrics = caMetrics(() => rootExpiry, options.meter);
  }

  /** Signs the request's CSR; returns the chain, leaf first and root last. Throws CaError. */
  async sign(req: SignRequest): Promise<string[]> {
    try {
      return await this.#sign(req);
    } catch (err) {
      const e =
        err instanceof CaError
          ? err
          : new CaError('INTERNAL', `signing failed: ${(err as Error).message}`);
      this.#metrics.record(RESULTS[e.code]);
      this.#o.logger?.warn(
        { code: e.code, reason: e.message, clusterId: req.clusterId },
        'CSR refused',
      );
      throw e;
    }
  }

  async #sign(req: SignRequest): Promise<string[]> {
    const caller = await this.#authenticate(req.authorization);
    const decision = authorize({
      caller,
      trustDomain: this.trustDomain,
      ...(req.impersonatedIdentity ? { impersonated: req.impersonatedIdentity } : {}),
      trustedNodeProxies: this.#proxies,
      workloadsOnCallerNode: caller.node ? this.#o.nodeIndex.workloadsOn(caller.node) : [],
    });
    if (!decision.allowed) throw new CaError('PERMISSION_DENIED', decision.reason);
    const ttl = grantedTtl(req.validitySeconds, {
      defaultTtlMs: this.#o.defaultTtlMs ?? DAY_MS,
      maxTtlMs: this.#o.maxTtlMs ?? DAY_MS,
    });
    if (!ttl.ok) throw new CaError('INVALID_ARGUMENT', ttl.reason);

    const started = performance.now();
    if (req.csr.length > MAX_CSR_CHARS)
      throw new CaError(
        'INVALID_ARGUMENT',
        `the CSR is ${req.csr.length} characters long; a workload CSR is under 2 KB (at most ${MAX_CSR_CHARS} accepted)`,
      );
    let csr: ParsedCsr;
    try {
      csr = await parseCsr(req.csr);
    } catch (err) {
      throw new CaError('INVALID_ARGUMENT', (err as Error).message);
    }
    const problem = csrProblem(csr, decision.identity);
    if (problem)
      throw new CaError(
        problem.kind === 'identity' ? 'PERMISSION_DENIED' : 'INVALID_ARGUMENT',
        problem.reason,
      );
    let chain: readonly string[];
    try {
      ({ chain } = await issueWorkloadCertificate({
        publicKey: csr.publicKey,
        identity: decision.identity,
        issuer: this.issuer,
        ttlMs: ttl.ttlMs,
        backdateMs: this.#o.backdateMs ?? 120_000,
      }));
    } catch (err) {
      this.#o.logger?.error({ err: (err as Error).message }, 'signing failed');
      throw new CaError('INTERNAL', `signing failed: ${(err as Error).message}`);
    }
    this.#metrics.record('success', (performance.now() - started) / 1000);
    this.#o.logger?.info(
      {
        caller: formatServiceAccount(caller),
        node: caller.node,
        identity: decision.identity,
        ttlSeconds: ttl.ttlMs / 1000,
        clusterId: req.clusterId,
      },
      'certificate issued',
    );
    return [...chain];
  }

  async #authenticate(authorization: string | undefined): Promise<Caller> {
    if (!authorization)
      throw new CaError(
        'UNAUTHENTICATED',
        'no authorization header: send "authorization: Bearer <token>"',
      );
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m)
      throw new CaError('UNAUTHENTICATED', 'the authorization header is not "Bearer <token>"');
    try {
      return await this.#o.authenticator.authenticate(m[1]!);
    } catch (err) {
      if (err instanceof AuthenticationError) throw new CaError('UNAUTHENTICATED', err.message);
      throw new CaError('INTERNAL', `authentication failed: ${(err as Error).message}`);
    }
  }
}

const RESULTS: Record<CaErrorCode, CsrResult> = {
  UNAUTHENTICATED: 'unauthenticated',
  PERMISSION_DENIED: 'permission_denied',
  INVALID_ARGUMENT: 'invalid_argument',
  INTERNAL: 'sign_error',
};
