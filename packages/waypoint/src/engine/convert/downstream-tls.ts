// A filter chain's transport_socket -> DownstreamTlsModel: TLS termination with SDS certificates
// (`kubernetes://<ns>/<secret>` over ADS) and/or inline ones, ALPN, protocol versions and cipher
// suites, and client certificate validation: an inline validation_context (trusted_ca,
// trust_chain_verification) with require_client_certificate; its other checks are refused by
// name. Pure.
import { isMessage } from '@bufbuild/protobuf';
import type { TransportSocket } from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import {
  CertificateValidationContext_TrustChainVerification as TrustChain,
  TlsParameters_TlsProtocol,
  type CertificateValidationContext,
} from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { DownstreamTlsContextSchema } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { ClientValidationModel, DownstreamTlsModel } from '../model/listener.js';
import { invalid, unpackTyped } from './common.js';
import { certificates, dataText, tlsCertificate } from './secret.js';

const RAW_BUFFER = 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer';

const VERSIONS: Record<number, DownstreamTlsModel['minVersion']> = {
  [TlsParameters_TlsProtocol.TLSv1_0]: 'TLSv1',
  [TlsParameters_TlsProtocol.TLSv1_1]: 'TLSv1.1',
  [TlsParameters_TlsProtocol.TLSv1_2]: 'TLSv1.2',
  [TlsParameters_TlsProtocol.TLSv1_3]: 'TLSv1.3',
};

/** undefined for a raw_buffer transport socket (plain bytes). */
export function downstreamTls(ts: TransportSocket, field: string): DownstreamTlsModel | undefined {
  if (ts.configType.case !== 'typedConfig') invalid(field, 'typed_config is required');
  const m = unpackTyped(ts.configType.value, `${field}.typed_config`);
  if (m.$typeName === RAW_BUFFER) return undefined;
  if (!isMessage(m, DownstreamTlsContextSchema))
    invalid(`${field}.typed_config`, `transport socket ${m.$typeName} is not supported`);
  const f = `${field}.typed_config(DownstreamTlsContext)`;
  const c = m.commonTlsContext;
  if (!c) invalid(`${f}.common_tls_context`, 'is missing');
  const cf = `${f}.common_tls_context`;
  const vt = c.validationContextType;
  if (vt.case !== undefined && vt.case !== 'validationContext')
    invalid(`${cf}.${vt.case}`, 'only an inline validation_context is supported (no SDS)');
  const clientValidation =
    vt.case === 'validationContext'
      ? validation(vt.value, m.requireClientCertificate ?? false, `${cf}.validation_context`)
      : undefined;
  if (m.requireClientCertificate && !clientValidation)
    invalid(`${f}.require_client_certificate`, 'needs common_tls_context.validation_context');
  if (c.tlsCertificateProviderInstance || c.tlsCertificateCertificateProviderInstance)
    invalid(cf, 'certificate provider instances are not supported');
  const sdsCertificates = c.tlsCertificateSdsSecretConfigs.map((s, i) => {
    const sf = `${cf}.tls_certificate_sds_secret_configs[${i}]`;
    if (s.name === '') invalid(`${sf}.name`, 'is empty');
    const src = s.sdsConfig?.configSourceSpecifier.case;
    if (src !== undefined && src !== 'ads')
      invalid(`${sf}.sds_config`, `${src} is not supported (secrets come over ADS)`);
    return s.name;
  });
  const inlineCertificates = c.tlsCertificates.map((t, i) =>
    tlsCertificate(t, `${cf}.tls_certificates[${i}]`),
  );
  if (sdsCertificates.length === 0 && inlineCertificates.length === 0)
    invalid(cf, 'no certificate (tls_certificates or tls_certificate_sds_secret_configs)');
  const p = c.tlsParams;
  const version = (v: TlsParameters_TlsProtocol, name: string) => {
    if (v === TlsParameters_TlsProtocol.TLS_AUTO) return undefined;
    const out = VERSIONS[v];
    if (!out) invalid(`${cf}.tls_params.${name}`, `unknown TLS version ${v}`);
    return out;
  };
  const minVersion = p
    ? version(p.tlsMinimumProtocolVersion, 'tls_minimum_protocol_version')
    : undefined;
  const maxVersion = p
    ? version(p.tlsMaximumProtocolVersion, 'tls_maximum_protocol_version')
    : undefined;
  for (const a of c.alpnProtocols)
    if (a === '' || a.length > 255) invalid(`${cf}.alpn_protocols`, `invalid protocol "${a}"`);
  return {
    sdsCertificates,
    inlineCertificates,
    alpn: [...c.alpnProtocols],
    ...(minVersion ? { minVersion } : {}),
    ...(maxVersion ? { maxVersion } : {}),
    ...(p && p.cipherSuites.length > 0 ? { ciphers: p.cipherSuites.join(':') } : {}),
    ...(clientValidation ? { clientValidation } : {}),
  };
}

/** The client certificate checks of a validation_context: trusted CAs and the trust mode only. */
function validation(
  v: CertificateValidationContext,
  requireCertificate: boolean,
  field: string,
): ClientValidationModel {
  const unsupported: [string, boolean][] = [
    ['match_typed_subject_alt_names', v.matchTypedSubjectAltNames.length > 0],
    ['match_subject_alt_names', v.matchSubjectAltNames.length > 0],
    ['verify_certificate_spki', v.verifyCertificateSpki.length > 0],
    ['verify_certificate_hash', v.verifyCertificateHash.length > 0],
    ['crl', v.crl !== undefined],
    ['custom_validator_config', v.customValidatorConfig !== undefined],
    ['ca_certificate_provider_instance', v.caCertificateProviderInstance !== undefined],
    ['system_root_certs', v.systemRootCerts !== undefined],
    ['watched_directory', v.watchedDirectory !== undefined],
    ['allow_expired_certificate', v.allowExpiredCertificate],
  ];
  for (const [name, set] of unsupported) if (set) invalid(`${field}.${name}`, 'is not supported');
  const trustedCa = dataText(v.trustedCa, `${field}.trusted_ca`);
  certificates(trustedCa, `${field}.trusted_ca`);
  const t = v.trustChainVerification;
  if (t !== TrustChain.VERIFY_TRUST_CHAIN && t !== TrustChain.ACCEPT_UNTRUSTED)
    invalid(`${field}.trust_chain_verification`, `unknown value ${t}`);
  return { trustedCa, requireCertificate, acceptUntrusted: t === TrustChain.ACCEPT_UNTRUSTED };
}
