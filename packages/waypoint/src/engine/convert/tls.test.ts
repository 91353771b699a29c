// TLS at the edge: a gateway Listener's DownstreamTlsContext and SDS Secrets convert to models, and
// what is wrong or not implemented (client certificate checks beyond trusted CAs, keys of another
// certificate, no PEM, file data sources, non-ADS SDS) is refused with a reason naming the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { packAny, unpackAnyAs } from '@trellis/api';
import { ListenerSchema } from '@trellis/api/gen/envoy/config/listener/v3/listener_pb.js';
import { SecretSchema } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { DownstreamTlsContextSchema } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { CertificateValidationContextSchema } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import type { Named } from '../../test-support/envoy-builders.js';
import { gatewayListener, tlsSecret } from '../../test-support/gateway-builders.js';
import { hostCert, ingressRoot } from '../../test-support/gateway-clients.js';
import { convertListener } from './listener.js';
import { convertSecret, redactSecret } from './secret.js';

const root = await ingressRoot();
const [a, b] = await Promise.all([
  hostCert(root, 'a.example.com'),
  hostCert(root, 'b.example.com'),
]);

const secret = (init: MessageInitShape<typeof SecretSchema>) =>
  convertSecret(create(SecretSchema, init));
const listenerOf = (n: Named) => convertListener(unpackAnyAs(n.resource, ListenerSchema));
function withTls(ctx: MessageInitShape<typeof DownstreamTlsContextSchema>) {
  return convertListener(
    create(ListenerSchema, {
      name: 'l',
      filterChains: [
        {
          name: 'c',
          filters: unpackAnyAs(
            gatewayListener(443, [{ name: 'x', tcpCluster: 'c' }]).resource,
            ListenerSchema,
          ).filterChains[0]!.filters,
          transportSocket: {
            name: 'envoy.transport_sockets.tls',
            configType: {
              case: 'typedConfig',
              value: packAny(DownstreamTlsContextSchema, create(DownstreamTlsContextSchema, ctx)),
            },
          },
        },
      ],
    }),
  );
}
const reason = (r: { ok: true } | { ok: false; reason: string }): string =>
  r.ok ? 'accepted' : r.reason;

test('a gateway listener: server names, SDS and inline certificates, ALPN', () => {
  const l = listenerOf(
    gatewayListener(443, [
      {
        name: 'a',
        serverNames: ['A.example.com'],
        tls: { sds: ['kubernetes://ns/a'] },
        routes: 'r',
      },
      {
        name: 'w',
        serverNames: ['*.example.com'],
        tls: { inline: [a], alpn: ['h2'] },
        routes: 'r',
      },
      { name: 'p', serverNames: ['pass.example.com'], tcpCluster: 'c' },
    ]),
  );
  assert.ok(l.ok);
  const [ca, cw, cp] = l.value.chains;
  assert.deepEqual(ca!.match.serverNames, ['a.example.com']);
  assert.deepEqual(ca!.tls, {
    sdsCertificates: ['kubernetes://ns/a'],
    inlineCertificates: [],
    alpn: ['h2', 'http/1.1'],
  });
  assert.deepEqual(
    cw!.tls!.inlineCertificates.map((c) => c.dnsNames),
    [['a.example.com']],
  );
  assert.deepEqual(cw!.tls!.alpn, ['h2']);
  assert.equal(cp!.tls, undefined);
  assert.equal(cp!.terminal.kind, 'tcp');
});

test('DownstreamTlsContext refusals name the field', () => {
  const sds = { tlsCertificateSdsSecretConfigs: [{ name: 'kubernetes://ns/a' }] };
  assert.match(
    reason(withTls({ requireClientCertificate: true, commonTlsContext: sds })),
    /require_client_certificate: needs common_tls_context\.validation_context/,
  );
  assert.match(
    reason(
      withTls({
        commonTlsContext: {
          ...sds,
          validationContextType: {
            case: 'validationContextSdsSecretConfig',
            value: { name: 'ca' },
          },
        },
      }),
    ),
    /common_tls_context\.validationContextSdsSecretConfig: only an inline validation_context is supported/,
  );
  const validating = (value: MessageInitShape<typeof CertificateValidationContextSchema>) =>
    reason(
      withTls({
        requireClientCertificate: true,
        commonTlsContext: { ...sds, validationContextType: { case: 'validationContext', value } },
      }),
    );
  const trustedCa = { specifier: { case: 'inlineString' as const, value: root.cert } };
  assert.equal(validating({ trustedCa }), 'accepted');
  assert.match(
    validating({
      trustedCa,
      matchSubjectAltNames: [{ matchPattern: { case: 'exact', value: 'x' } }],
    }),
    /validation_context\.match_subject_alt_names: is not supported/,
  );
  assert.match(
    validating({ trustedCa: { specifier: { case: 'inlineString', value: 'not pem' } } }),
    /validation_context\.trusted_ca/,
  );
  assert.match(validating({}), /validation_context\.trusted_ca/);
  assert.match(reason(withTls({ commonTlsContext: {} })), /common_tls_context: no certificate/);
  assert.match(reason(withTls({})), /common_tls_context: is missing/);
  assert.match(
    reason(
      withTls({
        commonTlsContext: {
          tlsCertificateSdsSecretConfigs: [
            { name: 'x', sdsConfig: { configSourceSpecifier: { case: 'path', value: '/etc/x' } } },
          ],
        },
      }),
    ),
    /tls_certificate_sds_secret_configs\[0\]\.sds_config: path is not supported \(secrets come over ADS\)/,
  );
  assert.match(
    reason(
      withTls({
        commonTlsContext: {
          tlsCertificates: [
            {
              certificateChain: { specifier: { case: 'inlineString', value: a.certChain } },
              privateKey: { specifier: { case: 'inlineString', value: b.privateKey } },
            },
          ],
        },
      }),
    ),
    /tls_certificates\[0\]\.private_key: does not match the public key of the certificate/,
  );
  const ok = withTls({ commonTlsContext: { ...sds, tlsParams: { tlsMinimumProtocolVersion: 4 } } });
  assert.ok(ok.ok);
  assert.equal(ok.value.chains[0]!.tls!.minVersion, 'TLSv1.3');
});

test('Secrets: a good certificate converts; bad PEM, foreign keys and unsupported kinds are NACK reasons', () => {
  const good = convertSecret(
    unpackAnyAs(tlsSecret('kubernetes://ns/a', a.certChain, a.privateKey).resource, SecretSchema),
  );
  assert.ok(good.ok && good.value.kind === 'tls_certificate');
  assert.deepEqual(good.value.certificate.dnsNames, ['a.example.com']);
  const tlsCert = (chain: string, key: string) =>
    secret({
      name: 's',
      type: {
        case: 'tlsCertificate',
        value: {
          certificateChain: { specifier: { case: 'inlineString', value: chain } },
          privateKey: { specifier: { case: 'inlineString', value: key } },
        },
      },
    });
  assert.match(
    reason(tlsCert(a.certChain, b.privateKey)),
    /^Secret s\.tls_certificate\.private_key: does not match the public key of the certificate \(subject "CN=a\.example\.com"\)$/,
  );
  assert.match(reason(tlsCert('garbage', a.privateKey)), /certificate_chain: no PEM certificate/);
  assert.match(
    reason(tlsCert('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', a.privateKey)),
    /certificate_chain: certificate 1 does not parse/,
  );
  assert.match(reason(tlsCert(a.certChain, 'not a key')), /private_key: not a PEM private key/);
  assert.match(
    reason(
      secret({
        name: 's',
        type: {
          case: 'tlsCertificate',
          value: { certificateChain: { specifier: { case: 'filename', value: '/etc/cert.pem' } } },
        },
      }),
    ),
    /certificate_chain: filename is not supported/,
  );
  assert.match(
    reason(secret({ name: 's' })),
    /no secret \(tls_certificate or validation_context\)/,
  );
  assert.match(
    reason(secret({ name: 's', type: { case: 'genericSecret', value: {} } })),
    /genericSecret secrets are not supported/,
  );
  const ca = secret({
    name: 's-cacert',
    type: {
      case: 'validationContext',
      value: { trustedCa: { specifier: { case: 'inlineString', value: root.cert } } },
    },
  });
  assert.ok(ca.ok && ca.value.kind === 'validation_context');
});

test('/config_dump shows secrets with the key redacted', () => {
  const s = unpackAnyAs(
    tlsSecret('kubernetes://ns/a', a.certChain, a.privateKey).resource,
    SecretSchema,
  );
  const r = redactSecret(s);
  assert.ok(r.type.case === 'tlsCertificate' && s.type.case === 'tlsCertificate');
  assert.deepEqual(r.type.value.privateKey!.specifier, {
    case: 'inlineString',
    value: '[redacted]',
  });
  // The held message is untouched.
  assert.equal(s.type.value.privateKey!.specifier.case, 'inlineBytes');
});
