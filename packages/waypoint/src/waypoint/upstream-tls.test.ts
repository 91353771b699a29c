// TLS origination (a DestinationRule's tls SIMPLE/MUTUAL as an UpstreamTlsContext): the waypoint
// opens TLS to an endpoint outside the mesh with the SNI, the CA file and the client certificate
// the cluster names (files, or inline PEM as for a Gateway's backend client certificate, whose key
// /config_dump redacts), and refuses a server whose certificate lacks the expected SAN (503 UF).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { packAny } from '@trellis/api';
import { UpstreamTlsContextSchema } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { SubjectAltNameMatcher_SanType } from '@trellis/api/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { x509 } from '@trellis/pki';
import { request, testPort } from '../test-support/apps.js';
import {
  cluster,
  endpoints,
  forward,
  listener,
  prefix,
  simpleRoutes,
} from '../test-support/envoy-builders.js';
import { startFixture } from '../test-support/fixture.js';

const HBONE_PORT = testPort(7);
const APP_PORT = testPort(8);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** A self-signed certificate (its own CA) for `dns`, as PEM, and its key. */
async function selfSigned(cn: string, dns: string): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as {
    privateKey: webcrypto.CryptoKey;
    publicKey: webcrypto.CryptoKey;
  };
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${cn}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: dns }]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem'), key };
}

function tlsCluster(name: string, ctx: object) {
  return cluster(name, {
    transportSocket: {
      name: 'envoy.transport_sockets.tls',
      configType: {
        case: 'typedConfig',
        value: packAny(UpstreamTlsContextSchema, create(UpstreamTlsContextSchema, ctx as never)),
      },
    },
  } as never);
}

test('TLS origination to an endpoint outside the mesh: SNI, CA file, client certificate, SAN check', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), `trellis-wp-tls-${process.pid}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await selfSigned('db', 'db.example.test');
  const client = await selfSigned('waypoint-client', 'client.example.test');
  const files = {
    ca: join(dir, 'ca.pem'),
    cert: join(dir, 'client.pem'),
    key: join(dir, 'client-key.pem'),
  };
  writeFileSync(files.ca, server.cert);
  writeFileSync(files.cert, client.cert);
  writeFileSync(files.key, client.key);

  const app = https.createServer(
    { cert: server.cert, key: server.key, ca: client.cert, requestCert: true },
    (req, res) => {
      const sock = req.socket as import('node:tls').TLSSocket;
      const peer = sock.getPeerCertificate();
      res.end(`sni=${sock.servername} client=${peer.subject?.CN ?? 'none'}`);
    },
  );
  await new Promise<void>((r) => app.listen(APP_PORT, '127.0.0.3', () => r()));
  t.after(() => app.close());

  const validation = (sans: string[]) => ({
    trustedCa: { specifier: { case: 'filename', value: files.ca } },
    matchTypedSubjectAltNames: sans.map((v) => ({
      sanType: SubjectAltNameMatcher_SanType.DNS,
      matcher: { matchPattern: { case: 'exact', value: v } },
    })),
  });
  const mutual = (sans: string[]) => ({
    sni: 'db.example.test',
    commonTlsContext: {
      validationContextType: { case: 'validationContext', value: validation(sans) },
      tlsCertificates: [
        {
          certificateChain: { specifier: { case: 'filename', value: files.cert } },
          privateKey: { specifier: { case: 'filename', value: files.key } },
        },
      ],
    },
  });
  const f = await startFixture({
    hbonePort: HBONE_PORT,
    envoy: {
      listeners: [listener([{ vip: '10.96.0.9', port: 5432, routes: 'db:5432' }])],
      routes: [
        simpleRoutes('db:5432', [
          forward('wrong-san', prefix('/wrong'), 'wrong-san'),
          forward('inline', prefix('/inline'), 'inline'),
          forward('all', prefix('/'), 'db'),
        ]),
      ],
      clusters: [
        tlsCluster('db', mutual(['db.example.test'])),
        tlsCluster('wrong-san', mutual(['other.example.test'])),
        // As the control plane sends a Gateway's spec.tls.backend certificate: inline PEM.
        tlsCluster('inline', {
          sni: 'db.example.test',
          commonTlsContext: {
            validationContextType: {
              case: 'validationContext',
              value: { trustedCa: { specifier: { case: 'inlineString', value: server.cert } } },
            },
            tlsCertificates: [
              {
                certificateChain: { specifier: { case: 'inlineString', value: client.cert } },
                privateKey: { specifier: { case: 'inlineString', value: client.key } },
              },
            ],
          },
        }),
      ],
      endpoints: [
        endpoints('db', [{ ip: '127.0.0.3', port: APP_PORT }]),
        endpoints('wrong-san', [{ ip: '127.0.0.3', port: APP_PORT }]),
        endpoints('inline', [{ ip: '127.0.0.3', port: APP_PORT }]),
      ],
    },
  });
  t.after(() => f.close());
  const port = await f.sourcePort('10.96.0.9', 5432);
  const ok = await request(port, { path: '/x' });
  assert.deepEqual(
    [ok.status, ok.body],
    [200, 'sni=db.example.test client=waypoint-client'],
    'TLS with the SNI and the client certificate from the files',
  );
  const inline = await request(port, { path: '/inline' });
  assert.deepEqual(
    [inline.status, inline.body],
    [200, 'sni=db.example.test client=waypoint-client'],
    'TLS with an inline CA and client certificate',
  );
  const dump = (await f.admin('/config_dump')).body;
  assert.ok(!dump.includes(client.key.split('\n')[1]!), 'the inline client key is not dumped');
  assert.match(dump, /\[redacted\]/);
  const refused = await request(port, { path: '/wrong' });
  assert.equal(refused.status, 503, refused.body);
  assert.match(refused.body, /upstream connect error|none of the expected SANs/);
});
