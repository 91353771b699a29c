// SDS secrets the engine holds (envoy.extensions.transport_sockets.tls.v3.Secret): a certificate
// with its key that a TLS filter chain presents, or CA certificates to validate peers with.
import type { TlsCertificateModel } from './listener.js';

export type SecretModel =
  | {
      readonly name: string;
      readonly kind: 'tls_certificate';
      readonly certificate: TlsCertificateModel;
    }
  | {
      readonly name: string;
      readonly kind: 'validation_context';
      /** PEM CA certificates. */
      readonly trustedCa: string;
    };
