// The TLS server contexts of a gateway's terminating filter chains: built from the chain's inline
// certificates and the SDS secrets the engine holds now, rebuilt when a secret's new version is
// accepted (each version is a new object), so new handshakes present the new certificate while
// connections already established keep theirs.
import tls from 'node:tls';
import type { Engine } from '../engine/engine.js';
import type { DownstreamTlsModel, TlsCertificateModel } from '../engine/model/listener.js';
import type { SecretModel } from '../engine/model/secret.js';

export type ContextResult =
  | { readonly ok: true; readonly context: tls.SecureContext }
  | { readonly ok: false; readonly reason: string };

interface Built {
  readonly secrets: readonly (SecretModel | undefined)[];
  readonly result: ContextResult;
}

export class TlsContexts {
  readonly #engine: Engine;
  readonly #built = new WeakMap<DownstreamTlsModel, Built>();

  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** The context for `model` with the secrets accepted now (cached until one of them changes). */
  contextFor(model: DownstreamTlsModel): ContextResult {
    const secrets = model.sdsCertificates.map((n) => this.#engine.secret(n));
    const prev = this.#built.get(model);
    if (prev && prev.secrets.every((s, i) => s === secrets[i])) return prev.result;
    const result = build(model, secrets);
    this.#built.set(model, { secrets, result });
    return result;
  }
}

function build(
  model: DownstreamTlsModel,
  secrets: readonly (SecretModel | undefined)[],
): ContextResult {
  const certs: TlsCertificateModel[] = [...model.inlineCertificates];
  const missing: string[] = [];
  secrets.forEach((s, i) => {
    if (s?.kind === 'tls_certificate') certs.push(s.certificate);
    else missing.push(model.sdsCertificates[i]!);
  });
  if (certs.length === 0)
    return { ok: false, reason: `no certificate yet (waiting for secret ${missing.join(', ')})` };
  try {
    const context = tls.createSecureContext({
      cert: certs.map((c) => c.certChain),
      key: certs.map((c) => c.privateKey),
      ...(model.minVersion ? { minVersion: model.minVersion } : {}),
      ...(model.maxVersion ? { maxVersion: model.maxVersion } : {}),
      ...(model.ciphers ? { ciphers: model.ciphers } : {}),
    });
    return { ok: true, context };
  } catch (err) {
    return { ok: false, reason: `TLS context: ${(err as Error).message}` };
  }
}
