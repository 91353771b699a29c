// Secret (SDS) and TlsCertificate -> models, validated at the edge: the chain must be PEM
// certificates, the key a PEM private key, and the key must belong to the first (leaf)
// certificate. A bad secret is NACKed with the reason and the last good one keeps serving. Pure
// (node:crypto parses, nothing is read from disk).
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { clone, create } from '@bufbuild/protobuf';
import {
  DataSourceSchema,
  type DataSource,
} from '@trellis/api/gen/envoy/config/core/v3/base_pb.js';
import {
  TlsCertificateSchema,
  type TlsCertificate,
} from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import type { Secret } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type { TlsCertificateModel } from '../model/listener.js';
import type { SecretModel } from '../model/secret.js';
import { convert, invalid, type Converted } from './common.js';

export function convertSecret(s: Secret): Converted<SecretModel> {
  return convert(() => secret(s, `Secret ${s.name}`));
}

function secret(s: Secret, field: string): SecretModel {
  if (s.name === '') invalid(`${field}.name`, 'is empty');
  switch (s.type.case) {
    case 'tlsCertificate':
      return {
        name: s.name,
        kind: 'tls_certificate',
        certificate: tlsCertificate(s.type.value, `${field}.tls_certificate`),
      };
    case 'validationContext': {
      const v = s.type.value;
      const ca = dataText(v.trustedCa, `${field}.validation_context.trusted_ca`);
      certificates(ca, `${field}.validation_context.trusted_ca`);
      return { name: s.name, kind: 'validation_context', trustedCa: ca };
    }
    case undefined:
      return invalid(field, 'no secret (tls_certificate or validation_context) is set');
    default:
      return invalid(field, `${s.type.case} secrets are not supported`);
  }
}

/** A certificate chain and key that belong together (Envoy's checks, with the reason). */
export function tlsCertificate(c: TlsCertificate, field: string): TlsCertificateModel {
  if (c.pkcs12) invalid(`${field}.pkcs12`, 'not supported (use certificate_chain and private_key)');
  if (c.privateKeyProvider) invalid(`${field}.private_key_provider`, 'not supported');
  if (c.password) invalid(`${field}.password`, 'encrypted private keys are not supported');
  if (c.watchedDirectory) invalid(`${field}.watched_directory`, 'not supported');
  const chainPem = dataText(c.certificateChain, `${field}.certificate_chain`);
  const keyPem = dataText(c.privateKey, `${field}.private_key`);
  const chain = certificates(chainPem, `${field}.certificate_chain`);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    invalid(`${field}.private_key`, `not a PEM private key (${(err as Error).message})`);
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key))
    invalid(
      `${field}.private_key`,
      `does not match the public key of the certificate (subject "${leaf.subject.replace(/\n/g, ', ')}")`,
    );
  return {
    certChain: chainPem,
    privateKey: keyPem,
    dnsNames: (leaf.subjectAltName ?? '')
      .split(', ')
      .filter((n) => n.startsWith('DNS:'))
      .map((n) => n.slice(4)),
    notAfter: new Date(leaf.validTo).toISOString(),
  };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function certificates(pem: string, field: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) invalid(field, 'no PEM certificate (-----BEGIN CERTIFICATE-----) found');
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      invalid(`${field}`, `certificate ${i + 1} does not parse (${(err as Error).message})`);
    }
  });
}

export function dataText(d: DataSource | undefined, field: string): string {
  const s = d?.specifier;
  switch (s?.case) {
    case 'inlineBytes':
      return Buffer.from(s.value).toString('utf8');
    case 'inlineString':
      return s.value;
    case undefined:
      return invalid(field, 'is missing');
    default:
      return invalid(field, `${s!.case} is not supported (use inline_bytes or inline_string)`);
  }
}

/** The secret as /config_dump shows it: the private key replaced by "[redacted]" (as Envoy). */
export function redactSecret(s: Secret): Secret {
  if (s.type.case !== 'tlsCertificate') return s;
  const c = clone(TlsCertificateSchema, s.type.value);
  c.privateKey = create(DataSourceSchema, {
    specifier: { case: 'inlineString', value: '[redacted]' },
  });
  return { ...s, type: { case: 'tlsCertificate', value: c } };
}
