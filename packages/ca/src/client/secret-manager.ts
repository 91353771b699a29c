// Client-side certificates for ztunnel and waypoints: one certificate per identity, fetched on
// demand, shared while in flight, verified against the trusted root, rotated at about half its
// lifetime, retried with backoff while the CA is down (the current certificate keeps being served
// until it expires). Time is injectable so rotation is testable without waiting.
import { metrics as otel, type Meter } from '@opentelemetry/api';
import { backoff, type Backoff, type BackoffOptions } from '@trellis/core';
import {
  createCsr,
  generateKeyPair,
  inspectCertificate,
  parseTrustBundle,
  verifyChain,
  type KeyAlgorithm,
  type TrustBundle,
} from '@trellis/pki';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(ms, 2 ** 31 - 1)).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface WorkloadCertificate {
  readonly identity: string;
  /** PKCS#8 PEM. */
  readonly key: string;
  /** Leaf first, root last. */
  readonly chain: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Sends a CSR to the CA (e.g. CaClient.createCertificate). */
export type CertificateRequester = (
  csr: string,
  options: { impersonatedIdentity?: string },
) => Promise<string[]>;

export interface SecretManagerOptions {
  readonly request: CertificateRequester;
  /** Roots the returned chains must verify against, PEM. */
  readonly rootPem: string;
  /** When true, identities other than `ownIdentity` are requested with ImpersonatedIdentity. */
  readonly ownIdentity?: string;
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly clock?: Clock;
  /** Returns [0, 1); spreads rotation between 45% and 55% of the lifetime. */
  readonly random?: () => number;
  /** Retry delays while the CA is down; default 1 s .. 60 s with full jitter. */
  readonly backoff?: BackoffOptions;
  readonly meter?: Meter;
  readonly onError?: (identity: string, err: Error) => void;
}

interface Entry {
  current?: WorkloadCertificate;
  inflight?: Promise<WorkloadCertificate>;
  timer?: unknown;
  retry: Backoff;
}

export class SecretManager {
  readonly #o: SecretManagerOptions;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  readonly #bundle: TrustBundle;
  #closed = false;

  constructor(options: SecretManagerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? realClock;
    this.#bundle = parseTrustBundle(options.rootPem);
    const meter = options.meter ?? otel.getMeter('ca-client');
    meter
      .createObservableGauge('workload_cert_expiry_seconds', {
        description: 'Seconds until each workload certificate expires',
      })
      .addCallback((r) => {
        for (const [identity, e] of this.#entries) {
          if (e.current)
            r.observe((e.current.notAfter.getTime() - this.#clock.now()) / 1000, { identity });
        }
      });
  }

  /** The certificate for `identity`: the cached one while valid, else a fresh one (one request per identity at a time). */
  async fetch(identity: string): Promise<WorkloadCertificate> {
    if (this.#closed) throw new Error('secret manager is closed');
    const e = this.#entry(identity);
    if (e.current && e.current.notAfter.getTime() > this.#clock.now()) return e.current;
    return this.#refresh(identity, e);
  }

  /** The cached certificate, if any (may be expired). */
  current(identity: string): WorkloadCertificate | undefined {
    return this.#entries.get(identity)?.current;
  }

  /** Stops rotating `identity` and drops its certificate. */
  forget(identity: string): void {
    const e = this.#entries.get(identity);
    if (e?.timer !== undefined) this.#clock.clearTimeout(e.timer);
    this.#entries.delete(identity);
  }

  close(): void {
    this.#closed = true;
    for (const id of [...this.#entries.keys()]) this.forget(id);
  }

  #entry(identity: string): Entry {
    let e = this.#entries.get(identity);
    if (!e) {
      e = { retry: backoff(this.#o.backoff ?? { initialMs: 1000, maxMs: 60_000 }) };
      this.#entries.set(identity, e);
    }
    return e;
  }

  #refresh(identity: string, e: Entry): Promise<WorkloadCertificate> {
    if (e.inflight) return e.inflight;
    const p = this.#issue(identity).then(
      (cert) => {
        e.inflight = undefined;
        if (this.#entries.get(identity) !== e) return cert;
        e.current = cert;
        e.retry.reset();
        const life = cert.notAfter.getTime() - cert.notBefore.getTime();
        const at =
          cert.notBefore.getTime() + life * (0.45 + 0.1 * (this.#o.random ?? Math.random)());
        this.#schedule(identity, e, Math.max(0, at - this.#clock.now()));
        return cert;
      },
      (err: Error) => {
        e.inflight = undefined;
        this.#o.onError?.(identity, err);
        // Keep trying in the background while there is a certificate to protect.
        if (e.current && this.#entries.get(identity) === e)
          this.#schedule(identity, e, e.retry.next());
        throw err;
      },
    );
    e.inflight = p;
    return p;
  }

  #schedule(identity: string, e: Entry, ms: number): void {
    if (e.timer !== undefined) this.#clock.clearTimeout(e.timer);
    e.timer = this.#clock.setTimeout(() => {
      e.timer = undefined;
      this.#refresh(identity, e).catch(() => undefined);
    }, ms);
  }

  async #issue(identity: string): Promise<WorkloadCertificate> {
    const keys = await generateKeyPair(this.#o.keyAlgorithm ?? 'ecdsa-p256');
    const csr = await createCsr({ identity, privateKey: keys.privateKey });
    const impersonate = this.#o.ownIdentity !== undefined && identity !== this.#o.ownIdentity;
    const chain = await this.#o.request(csr, impersonate ? { impersonatedIdentity: identity } : {});
    if (chain.length === 0) throw new Error(`CA returned an empty chain for ${identity}`);
    const result = verifyChain({
      leaf: chain[0]!,
      intermediates: chain.slice(1),
      trustBundle: this.#bundle,
      now: new Date(this.#clock.now()),
    });
    if (!result.ok)
      throw new Error(`CA returned a chain for ${identity} that does not verify: ${result.reason}`);
    if (result.spiffeId.uri !== identity)
      throw new Error(
        `CA returned a certificate for ${result.spiffeId.uri}, asked for ${identity}`,
      );
    const info = inspectCertificate(chain[0]!);
    return {
      identity,
      key: keys.privateKey,
      chain,
      notBefore: info.notBefore,
      notAfter: info.notAfter,
    };
  }
}
