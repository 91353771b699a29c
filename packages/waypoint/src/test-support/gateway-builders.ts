// Envoy v3 resources for gateway tests, shaped as Istio serves a gateway: one Listener per port
// named `0.0.0.0_<port>`, filter chains matched by server name with a DownstreamTlsContext whose
// certificates come over SDS (`kubernetes://<ns>/<secret>`), TLS passthrough and TCP chains with
// tcp_proxy, and Secrets with inline PEM.
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { packAny } from '@trellis/api';
import type { FilterChainSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_components_pb.js';
import { CertificateValidationContext_TrustChainVerification as TrustChain } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { SecretSchema } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { DownstreamTlsContextSchema } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { listenerAt, terminalFilter, type Named, type ServiceChain } from './envoy-builders.js';

export interface GatewayChain extends Pick<
  ServiceChain,
  'routes' | 'tcpCluster' | 'hcm' | 'httpFilters'
> {
  readonly name: string;
  readonly serverNames?: readonly string[];
  /** TLS termination: SDS secret names and/or inline certificates. */
  readonly tls?: {
    readonly sds?: readonly string[];
    readonly inline?: readonly { readonly certChain: string; readonly privateKey: string }[];
    readonly alpn?: readonly string[];
    /** Client certificate validation: trusted CAs (PEM), require_client_certificate, ACCEPT_UNTRUSTED. */
    readonly clients?: {
      readonly ca: string;
      readonly require: boolean;
      readonly acceptUntrusted?: boolean;
    };
  };
}

export function gatewayChain(c: GatewayChain): MessageInitShape<typeof FilterChainSchema> {
  return {
    name: c.name,
    ...(c.serverNames ? { filterChainMatch: { serverNames: [...c.serverNames] } } : {}),
    filters: [terminalFilter(c, c.name)],
    ...(c.tls
      ? {
          transportSocket: {
            name: 'envoy.transport_sockets.tls',
            configType: {
              case: 'typedConfig' as const,
              value: packAny(
                DownstreamTlsContextSchema,
                create(DownstreamTlsContextSchema, {
                  ...(c.tls.clients ? { requireClientCertificate: c.tls.clients.require } : {}),
                  commonTlsContext: {
                    ...(c.tls.clients
                      ? {
                          validationContextType: {
                            case: 'validationContext' as const,
                            value: {
                              trustedCa: {
                                specifier: {
                                  case: 'inlineString' as const,
                                  value: c.tls.clients.ca,
                                },
                              },
                              trustChainVerification: c.tls.clients.acceptUntrusted
                                ? TrustChain.ACCEPT_UNTRUSTED
                                : TrustChain.VERIFY_TRUST_CHAIN,
                            },
                          },
                        }
                      : {}),
                    alpnProtocols: [...(c.tls.alpn ?? ['h2', 'http/1.1'])],
                    tlsCertificateSdsSecretConfigs: (c.tls.sds ?? []).map((name) => ({
                      name,
                      sdsConfig: { configSourceSpecifier: { case: 'ads' as const, value: {} } },
                    })),
                    tlsCertificates: (c.tls.inline ?? []).map((t) => ({
                      certificateChain: {
                        specifier: { case: 'inlineString' as const, value: t.certChain },
                      },
                      privateKey: {
                        specifier: { case: 'inlineString' as const, value: t.privateKey },
                      },
                    })),
                  },
                }),
              ),
            },
          },
        }
      : {}),
  };
}

/** Listener `0.0.0.0_<port>` bound to 0.0.0.0:<port>, as Istio names a gateway's. */
export function gatewayListener(port: number, chains: readonly GatewayChain[]): Named {
  return listenerAt(`0.0.0.0_${port}`, port, chains.map(gatewayChain));
}

/** An SDS Secret with a certificate chain and key as inline bytes (what Istio sends). */
export function tlsSecret(name: string, certChain: string, privateKey: string): Named {
  return {
    name,
    resource: packAny(
      SecretSchema,
      create(SecretSchema, {
        name,
        type: {
          case: 'tlsCertificate',
          value: {
            certificateChain: {
              specifier: { case: 'inlineBytes', value: Buffer.from(certChain) },
            },
            privateKey: { specifier: { case: 'inlineBytes', value: Buffer.from(privateKey) } },
          },
        },
      }),
    ),
  };
}
