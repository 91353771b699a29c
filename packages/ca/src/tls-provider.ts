// A grpc-js certificate provider whose serving certificate can be replaced while the server runs.
import type { experimental } from '@grpc/grpc-js';

type Provider = experimental.CertificateProvider;
type CaListener = Parameters<Provider['addCaCertificateListener']>[0];
type IdListener = Parameters<Provider['addIdentityCertificateListener']>[0];

export class RotatingCertificateProvider implements Provider {
  readonly #ca = new Set<CaListener>();
  readonly #id = new Set<IdListener>();
  #caCert: Buffer;
  #identity: { certificate: Buffer; privateKey: Buffer };

  constructor(rootPem: string, key: string, chain: readonly string[]) {
    this.#caCert = Buffer.from(rootPem);
    this.#identity = { certificate: Buffer.from(chain.join('')), privateKey: Buffer.from(key) };
  }

  update(key: string, chain: readonly string[]): void {
    this.#identity = { certificate: Buffer.from(chain.join('')), privateKey: Buffer.from(key) };
    for (const l of this.#id) l(this.#identity);
  }

  addCaCertificateListener(l: CaListener): void {
    this.#ca.add(l);
    // Asynchronously: grpc-js registers its own watcher only after adding the listener.
    queueMicrotask(() => this.#ca.has(l) && l({ caCertificate: this.#caCert }));
  }
  removeCaCertificateListener(l: CaListener): void {
    this.#ca.delete(l);
  }
  addIdentityCertificateListener(l: IdListener): void {
    this.#id.add(l);
    queueMicrotask(() => this.#id.has(l) && l(this.#identity));
  }
  removeIdentityCertificateListener(l: IdListener): void {
    this.#id.delete(l);
  }
}
