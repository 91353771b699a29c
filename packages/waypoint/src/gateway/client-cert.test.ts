// Client certificate validation on the gateway's TLS listeners (a DownstreamTlsContext with a
// validation_context, as the control plane builds it from a Gateway's spec.tls.frontend), with
// real TLS clients: a chain that requires a certificate of its CA lets in only clients holding
// one; a chain in AllowInsecureFallback (ACCEPT_UNTRUSTED, not required) asks for one and lets
// everybody in. Both terminate TLS in front of a plain TCP echo outside the mesh.
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { testPort } from '../test-support/apps.js';
import { cluster, endpoints } from '../test-support/envoy-builders.js';
import { spiffe, startFixture } from '../test-support/fixture.js';
import { gatewayListener, tlsSecret } from '../test-support/gateway-builders.js';
import { clientCert, hostCert, ingressRoot, tlsExchange } from '../test-support/gateway-clients.js';

const HBONE = testPort(201);
const TLS = testPort(202);
const APP = testPort(203);
const ECHO = 'outbound|9000||echo.example.internal';
const SECRET = 'kubernetes://istio-ingress/server-cert';

test('gateway: client certificates required, or asked for with insecure fallback', async (t) => {
  const serverRoot = await ingressRoot();
  const [clientRoot, otherRoot] = await Promise.all([ingressRoot(), ingressRoot()]);
  const [server, good, foreign] = await Promise.all([
    hostCert(serverRoot, '*.example.com'),
    clientCert(clientRoot, spiffe('team', 'good')),
    clientCert(otherRoot, spiffe('team', 'foreign')),
  ]);
  const f = await startFixture({
    hbonePort: HBONE,
    identity: spiffe('istio-ingress', 'gw'),
    extraArgs: ['--role', 'gateway', '--listener-host', '127.0.0.1', '--gateway-name', 'gw'],
    envoy: {
      listeners: [
        gatewayListener(TLS, [
          {
            name: 'strict',
            serverNames: ['strict.example.com'],
            tls: { sds: [SECRET], alpn: [], clients: { ca: clientRoot.cert, require: true } },
            tcpCluster: ECHO,
          },
          {
            name: 'fallback',
            serverNames: ['fallback.example.com'],
            tls: {
              sds: [SECRET],
              alpn: [],
              clients: { ca: clientRoot.cert, require: false, acceptUntrusted: true },
            },
            tcpCluster: ECHO,
          },
        ]),
      ],
      clusters: [cluster(ECHO)],
      endpoints: [endpoints(ECHO, [{ ip: '127.0.0.81', port: APP }])],
      secrets: [tlsSecret(SECRET, server.certChain, server.privateKey)],
    },
  });
  t.after(() => f.close());
  const echo = net.createServer((c) => c.on('data', (d: Buffer) => c.write(`echo:${d}`)));
  echo.listen(APP, '127.0.0.81');
  await once(echo, 'listening');
  t.after(() => echo.close());
  const ask = (sni: string, client?: typeof good) =>
    tlsExchange(TLS, sni, serverRoot.cert, 'hi', '127.0.0.1', client);
  // Refused: the handshake fails, or the connection closes before the backend answers.
  const refused = async (sni: string, client?: typeof good) => {
    const r = await ask(sni, client).catch((e: Error) => ({ reply: '', error: e.message }));
    assert.equal(r.reply, '', `${sni} with ${client ? 'a certificate' : 'none'} was let in`);
  };

  await t.test('required: a certificate of the CA gets through', async () => {
    const r = await ask('strict.example.com', good);
    assert.equal(r.san, 'DNS:*.example.com');
    assert.equal(r.reply, 'echo:hi');
  });
  await t.test('required: no certificate, or one of another CA, is refused', async () => {
    await assert.rejects(ask('strict.example.com'));
    await refused('strict.example.com', foreign);
  });
  await t.test('AllowInsecureFallback: every client gets through', async () => {
    for (const client of [good, foreign, undefined]) {
      const r = await ask('fallback.example.com', client);
      assert.equal(r.reply, 'echo:hi');
    }
  });
});
