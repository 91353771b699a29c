// The TLS server contexts of a gateway's terminating filter chains: built from the chain's inline
// certificates and the SDS secrets the engine holds now, rebuilt when a secret's new version is
// accepted (each version is a new object), so new handshakes present the new certificate while
// connections already established keep theirs. A chain with several certificates (a Gateway
// listener with several certificateRefs) has one context per certificate, and each handshake gets
// the certificate whose DNS names match its SNI best (exact, then the longest wildcard), else the
// first, as Envoy selects among a DownstreamTlsContext's certificates. (One OpenSSL context holds
// one certificate per key type: two ECDSA certificates in one refused every handshake with "key
// values mismatch".)
import tls from 'node:tls';
import type { Engine } from '../engine/engine.js';
import { serverNameScore } from '../engine/listener-select.js';
import type { DownstreamTlsModel, TlsCertificateModel } from '../engine/model/listener.js';
import type { SecretModel } from '../engine/model/secret.js';

export type ContextResult =
  | { readonly ok: true; readonly context: tls.SecureContext }
  | { readonly ok: false; readonly reason: string };

type Contexts =
  | {
      readonly ok: true;
      readonly byCertificate: readonly {
        readonly dnsNames: readonly string[];
        readonly context: tls.SecureContext;
      }[];
    }
  | { readonly ok: false; readonly reason: string };

interface Built {
  readonly secrets: readonly (SecretModel | undefined)[];
  readonly contexts: Contexts;
}

export class TlsContexts {
  readonly #engine: Engine;
  readonly #built = new WeakMap<DownstreamTlsModel, Built>();

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** The context for `model` and the client's SNI, with the secrets accepted now (cached until
   * one of them changes). */
  contextFor(model: DownstreamTlsModel, sni: string | undefined): ContextResult {
    const secrets = model.sdsCertificates.map((n) => this.#engine.secret(n));
    let built = this.#built.get(model);
    if (!built || built.secrets.some((s, i) => s !== secrets[i])) {
      built = { secrets, contexts: build(model, secrets) };
      this.#built.set(model, built);
    }
    const c = built.contexts;
    if (!c.ok) return c;
    let best = c.byCertificate[0]!;
    let bestScore = serverNameScore(best.dnsNames, sni);
    for (const e of c.byCertificate.slice(1)) {
      const score = serverNameScore(e.dnsNames, sni);
      if (score > bestScore) [best, bestScore] = [e, score];
    }
    return { ok: true, context: best.context };
  }
}

function build(model: DownstreamTlsModel, secrets: readonly (SecretModel | undefined)[]): Contexts {
  const certs: TlsCertificateModel[] = [...model.inlineCertificates];
  const missing: string[] = [];
  secrets.forEach((s, i) => {
    if (s?.kind === 'tls_certificate') certs.push(s.certificate);
    else missing.push(model.sdsCertificates[i]!);
  });
  if (certs.length === 0)
    return { ok: false, reason: `no certificate yet (waiting for secret ${missing.join(', ')})` };
  try {
    return {
      ok: true,
      byCertificate: certs.map((c) => ({
        dnsNames: c.dnsNames.map((n) => n.toLowerCase()),
        context: tls.createSecureContext({
          cert: c.certChain,
          key: c.privateKey,
          ...(model.minVersion ? { minVersion: model.minVersion } : {}),
          ...(model.maxVersion ? { maxVersion: model.maxVersion } : {}),
          ...(model.ciphers ? { ciphers: model.ciphers } : {}),
          // Client certificates are verified against these CAs only.
          ...(model.clientValidation ? { ca: model.clientValidation.trustedCa } : {}),
        }),
      })),
    };
  } catch (err) {
    return { ok: false, reason: `TLS context: ${(err as Error).message}` };
  }
}
