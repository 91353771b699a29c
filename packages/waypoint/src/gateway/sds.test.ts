// Gateway certificates over SDS (delta and state of the world): a new Secret version is presented
// to new handshakes without a restart while a connection opened before keeps working with the
// certificate it got; a malformed Secret (key of another certificate, no PEM) is NACKed with the
// reason and the last good certificate keeps serving; private keys never reach /config_dump.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { test } from 'node:test';
import { eventually } from '@trellis/core/test-support';
import { httpBackend, testPort } from '../test-support/apps.js';
import {
  cluster,
  endpoints,
  forward,
  prefix,
  simpleRoutes,
  type EnvoySet,
  type Named,
} from '../test-support/envoy-builders.js';
import { spiffe, startFixture } from '../test-support/fixture.js';
import { gatewayListener, tlsSecret } from '../test-support/gateway-builders.js';
import { hostCert, httpsRequest, ingressRoot } from '../test-support/gateway-clients.js';

// Ports of their own per protocol: the delta test's gateway may still be shutting down (holding
// its listener) when the sotw test's starts.
const ports = (protocol: 'delta' | 'sotw') => {
  const base = protocol === 'delta' ? 141 : 144;
  return { HBONE: testPort(base), HTTPS: testPort(base + 1), APP: testPort(base + 2) };
};
const A = 'outbound|80||a.default.svc.cluster.local';
const SECRET = 'kubernetes://istio-ingress/a-cert';

const envoy = (secret: Named, HTTPS: number, APP: number): EnvoySet => ({
  listeners: [
    gatewayListener(HTTPS, [
      { name: 'a', serverNames: ['a.example.com'], tls: { sds: [SECRET] }, routes: 'r' },
    ]),
  ],
  routes: [simpleRoutes('r', [forward('all', prefix('/'), A)])],
  clusters: [cluster(A)],
  endpoints: [endpoints(A, [{ ip: '127.0.0.141', port: APP, identity: spiffe('default', 'a') }])],
  secrets: [secret],
});

const fingerprint = (chain: string) => new X509Certificate(chain).fingerprint256;

for (const protocol of ['delta', 'sotw'] as const) {
  test(`SDS over ${protocol}: rotation without a restart, open connections kept; bad secrets NACKed`, async (t) => {
    const { HBONE, HTTPS, APP } = ports(protocol);
    const root = await ingressRoot();
    const [c1, c2] = await Promise.all([
      hostCert(root, 'a.example.com'),
      hostCert(root, 'a.example.com'),
    ]);
    const f = await startFixture({
      hbonePort: HBONE,
      identity: spiffe('istio-ingress', 'gw'),
      extraArgs: ['--role', 'gateway', '--listener-host', '127.0.0.1', '--xds-protocol', protocol],
      envoy: envoy(tlsSecret(SECRET, c1.certChain, c1.privateKey), HTTPS, APP),
    });
    t.after(() => f.close());
    await httpBackend(t, f.mesh, { ip: '127.0.0.141', port: APP, hbonePort: HBONE, name: 'a' });
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    let step = 'the first request';
    const get = (keep: boolean) =>
      httpsRequest(HTTPS, 'a.example.com', root.cert, { agent: keep ? agent : false }).catch(
        (e: Error) => {
          throw new Error(`${step}: ${e.message}`);
        },
      );

    const first = await get(true);
    assert.deepEqual([first.status, first.body], [200, 'a GET /']);
    assert.equal(first.fingerprint, fingerprint(c1.certChain));

    // Rotation: a new version of the Secret.
    step = 'after the rotation';
    f.xds.set(envoy(tlsSecret(SECRET, c2.certChain, c2.privateKey), HTTPS, APP));
    await eventually(
      'new handshakes present the new certificate',
      async () => (await get(false)).fingerprint === fingerprint(c2.certChain),
    );
    const kept = await get(true);
    assert.equal(kept.reused, true, 'the keep-alive connection opened before the rotation');
    assert.deepEqual([kept.status, kept.fingerprint], [200, fingerprint(c1.certChain)]);

    // A key that belongs to another certificate: NACK, the last good certificate keeps serving.
    const status = async () =>
      (
        JSON.parse((await f.admin('/config_dump')).body) as {
          xds: { typeUrl: string; lastNack?: string }[];
          secrets: { tlsCertificate: { privateKey: { inlineString?: string } } }[];
        }
      ).xds.find((x) => x.typeUrl.endsWith('.Secret'))?.lastNack;
    step = 'after the mismatched key';
    f.xds.set(envoy(tlsSecret(SECRET, c1.certChain, c2.privateKey), HTTPS, APP));
    const mismatch = await eventually('a NACK for the mismatched key', status);
    assert.match(
      mismatch,
      /Secret kubernetes:\/\/istio-ingress\/a-cert\.tls_certificate\.private_key: does not match the public key of the certificate/,
    );
    const still = await get(false);
    assert.deepEqual([still.status, still.fingerprint], [200, fingerprint(c2.certChain)]);

    step = 'after the missing PEM';
    f.xds.set(envoy(tlsSecret(SECRET, 'not a certificate', c2.privateKey), HTTPS, APP));
    await eventually('a NACK for the missing PEM', async () =>
      /certificate_chain: no PEM certificate/.test((await status()) ?? ''),
    );
    assert.equal((await get(false)).fingerprint, fingerprint(c2.certChain));
    const dump = (await f.admin('/config_dump')).body;
    assert.ok(!dump.includes('PRIVATE KEY'), 'no private key in /config_dump');
  });
}
