// DestinationRule `trafficPolicy.tls` -> the cluster's `transport_socket`, as Istio maps it for a
// destination outside the mesh: SIMPLE is TLS with `sni` and the `caCertificates` file (else the
// system roots), MUTUAL adds the `clientCertificate` / `privateKey` files, `subjectAltNames`
// become SAN matchers, `insecureSkipVerify` accepts any certificate. ISTIO_MUTUAL and DISABLE add
// nothing: a waypoint reaches mesh workloads by HBONE (mutual TLS with SPIFFE identities) anyway,
// and SIMPLE/MUTUAL towards a mesh workload is TLS inside the HBONE tunnel. `credentialName` (a
// Secret read over SDS) is not supported: the rule's TLS is then refused with a note, and the
// cluster keeps no TLS rather than half of it. `upstreamTlsSocket` builds the socket, shared with
// BackendTLSPolicy (backend-tls.ts). Pure.
import { create } from '@bufbuild/protobuf';
import { packAny } from '@trellis/api';
import {
  TransportSocketSchema,
  type TransportSocket,
} from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import {
  CertificateValidationContext_TrustChainVerification,
  CertificateValidationContextSchema,
  SubjectAltNameMatcher_SanType,
  SubjectAltNameMatcherSchema,
  TlsCertificateSchema,
} from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import {
  CommonTlsContextSchema,
  UpstreamTlsContextSchema,
} from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { ClientTls } from '../../model/istio-networking.js';

export const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';

/** The transport socket for `tls`, none (plain or HBONE), or why it cannot be honoured. */
export function clientTlsSocket(
  tls: ClientTls | undefined,
  http2: boolean,
): { socket?: TransportSocket; problem?: string } {
  if (!tls || tls.mode === 'DISABLE' || tls.mode === 'ISTIO_MUTUAL') return {};
  if (tls.mode !== 'SIMPLE' && tls.mode !== 'MUTUAL')
    return {
      problem: `tls.mode ${tls.mode} is not supported (DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL); no TLS is originated`,
    };
  if (tls.credentialName)
    return {
      problem: `tls.credentialName (a Secret served over SDS) is not supported; give caCertificates${tls.mode === 'MUTUAL' ? ', clientCertificate and privateKey' : ''} as files mounted in the waypoint; no TLS is originated`,
    };
  if (tls.mode === 'MUTUAL' && (!tls.clientCertificate || !tls.privateKey))
    return {
      problem: 'tls.mode MUTUAL needs clientCertificate and privateKey; no TLS is originated',
    };
  return {
    socket: upstreamTlsSocket({
      sni: tls.sni ?? '',
      ...(tls.caCertificates ? { ca: { case: 'filename', value: tls.caCertificates } } : {}),
      subjectAltNames: tls.subjectAltNames.map((san) => ({
        uri: san.includes('://'),
        value: san,
      })),
      http2,
      ...(tls.insecureSkipVerify ? { acceptUntrusted: true } : {}),
      ...(tls.mode === 'MUTUAL'
        ? { clientCertificate: tls.clientCertificate!, privateKey: tls.privateKey! }
        : {}),
    }),
  };
}

/** What an UpstreamTlsContext says: shared by DestinationRule `tls` and BackendTLSPolicy. */
export interface UpstreamTlsOptions {
  readonly sni: string;
  /** The trusted CAs, a file or inline PEM; none: the system roots. */
  readonly ca?: { readonly case: 'filename' | 'inlineString'; readonly value: string };
  /** The names the certificate must carry (one of them); none: any. */
  readonly subjectAltNames: readonly { readonly uri: boolean; readonly value: string }[];
  readonly http2: boolean;
  readonly acceptUntrusted?: boolean;
  /** Files of the client certificate (mutual TLS). */
  readonly clientCertificate?: string;
  readonly privateKey?: string;
  /** A client certificate given inline (PEM), e.g. a Gateway's spec.tls.backend Secret. */
  readonly inlineClient?: { readonly certificateChain: string; readonly privateKey: string };
}

/** The `envoy.transport_sockets.tls` socket of `o`. */
export function upstreamTlsSocket(o: UpstreamTlsOptions): TransportSocket {
  const validation = create(CertificateValidationContextSchema, {
    ...(o.ca ? { trustedCa: { specifier: { case: o.ca.case, value: o.ca.value } } } : {}),
    matchTypedSubjectAltNames: o.subjectAltNames.map((san) =>
      create(SubjectAltNameMatcherSchema, {
        sanType: san.uri ? SubjectAltNameMatcher_SanType.URI : SubjectAltNameMatcher_SanType.DNS,
        matcher: { matchPattern: { case: 'exact', value: san.value } },
      }),
    ),
    ...(o.acceptUntrusted
      ? {
          trustChainVerification:
            CertificateValidationContext_TrustChainVerification.ACCEPT_UNTRUSTED,
        }
      : {}),
  });
  const context = create(UpstreamTlsContextSchema, {
    sni: o.sni,
    commonTlsContext: create(CommonTlsContextSchema, {
      alpnProtocols: o.http2 ? ['h2'] : [],
      validationContextType: { case: 'validationContext', value: validation },
      tlsCertificates: o.inlineClient
        ? [
            create(TlsCertificateSchema, {
              certificateChain: {
                specifier: { case: 'inlineString', value: o.inlineClient.certificateChain },
              },
              privateKey: { specifier: { case: 'inlineString', value: o.inlineClient.privateKey } },
            }),
          ]
        : o.clientCertificate && o.privateKey
          ? [
              create(TlsCertificateSchema, {
                certificateChain: { specifier: { case: 'filename', value: o.clientCertificate } },
                privateKey: { specifier: { case: 'filename', value: o.privateKey } },
              }),
            ]
          : [],
    }),
  });
  return create(TransportSocketSchema, {
    name: TLS_TRANSPORT_SOCKET,
    configType: { case: 'typedConfig', value: packAny(UpstreamTlsContextSchema, context) },
  });
}
