// Real TLS endpoints on 127.0.0.1: a createMtlsServer and tls.connect clients using mtlsClientOptions.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import tls from 'node:tls';
import { parseTrustBundle, type TrustBundle } from './bundle.js';
import { inspectCertificate } from './certificate.js';
import { createMtlsServer, mtlsClientOptions, type MtlsServerConfig } from './mtls.js';
import { peerSpiffeId, PeerRejectedError } from './peer.js';
import type { SpiffeId } from './spiffe.js';
import { craftedLeaf, DAY, meshPki, workload, type Workload } from './test-support/mesh-pki.js';

const SERVER_ID = 'spiffe://cluster.local/ns/default/sa/server';
const CLIENT_ID = 'spiffe://cluster.local/ns/default/sa/client';

interface Server {
  readonly port: number;
  readonly accepted: SpiffeId[];
  readonly rejections: Error[];
}

/** Starts a server that greets each accepted peer with its SPIFFE ID, then closes the connection. */
async function startServer(t: TestContext, config: MtlsServerConfig): Promise<Server> {
  const accepted: SpiffeId[] = [];
  const rejections: Error[] = [];
  const server = createMtlsServer(config, (socket, peer) => {
    accepted.push(peer);
    socket.end(`hello ${peer.uri}`);
  });
  server.on('tlsClientError', (err) => rejections.push(err));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, accepted, rejections };
}

interface Outcome {
  readonly data: string;
  readonly serverId?: SpiffeId;
  readonly protocol?: string | null;
  readonly error?: Error & { code?: string };
}

/** Connects, reads until the connection closes, and reports what the client saw. */
function connect(port: number, options: tls.ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    let data = '';
    let serverId: SpiffeId | undefined;
    let protocol: string | null | undefined;
    let error: Error | undefined;
    socket.on('secureConnect', () => {
      serverId = peerSpiffeId(socket);
      protocol = socket.getProtocol();
    });
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.on('error', (err) => (error ??= err));
    socket.on('close', () =>
      resolve({ data, ...(serverId ? { serverId } : {}), protocol, ...(error ? { error } : {}) }),
    );
  });
}

async function setup(): Promise<{
  trustBundle: TrustBundle;
  server: Workload;
  client: Workload;
  pki: Awaited<ReturnType<typeof meshPki>>;
}> {
  const pki = await meshPki();
  return {
    pki,
    trustBundle: parseTrustBundle(pki.root.cert, { trustDomain: 'cluster.local' }),
    server: await workload(pki.intermediate, SERVER_ID),
    client: await workload(pki.intermediate, CLIENT_ID),
  };
}

function serverConfig(
  w: Workload,
  trustBundle: TrustBundle,
  authorize?: (peer: SpiffeId) => boolean,
): MtlsServerConfig {
  return { key: w.key, certChain: w.chain, trustBundle, ...(authorize ? { authorize } : {}) };
}

function clientOptions(
  w: Workload,
  trustBundle: TrustBundle,
  expectedIdentity = SERVER_ID,
): tls.ConnectionOptions {
  return mtlsClientOptions({ key: w.key, certChain: w.chain, trustBundle, expectedIdentity });
}

describe('SPIFFE mutual TLS over node:tls', () => {
  it('connects with the right identities; each side sees the other SPIFFE ID over TLS 1.3', async (t) => {
    const { trustBundle, server, client } = await setup();
    const srv = await startServer(
      t,
      serverConfig(server, trustBundle, (peer) => peer.uri === CLIENT_ID),
    );
    const out = await connect(srv.port, clientOptions(client, trustBundle));
    assert.equal(out.error, undefined);
    assert.equal(out.serverId?.uri, SERVER_ID);
    assert.equal(out.data, `hello ${CLIENT_ID}`);
    assert.equal(out.protocol, 'TLSv1.3');
    assert.deepEqual(
      srv.accepted.map((p) => p.uri),
      [CLIENT_ID],
    );
    assert.deepEqual(srv.rejections, []);
  });

  it('client refuses a server with the wrong identity', async (t) => {
    const { trustBundle, server, client } = await setup();
    const srv = await startServer(t, serverConfig(server, trustBundle));
    const out = await connect(
      srv.port,
      clientOptions(client, trustBundle, 'spiffe://cluster.local/ns/default/sa/db'),
    );
    assert.ok(out.error instanceof PeerRejectedError);
    assert.equal(out.error.code, 'ERR_SPIFFE_PEER_REJECTED');
    assert.equal(
      out.error.message,
      `peer rejected: peer identity ${SERVER_ID} is not the expected spiffe://cluster.local/ns/default/sa/db`,
    );
    assert.equal(out.data, '');
  });

  it('server refuses a client it does not authorize', async (t) => {
    const { trustBundle, server, client } = await setup();
    const srv = await startServer(
      t,
      serverConfig(server, trustBundle, (peer) => peer.uri.endsWith('/sa/frontend')),
    );
    const out = await connect(srv.port, clientOptions(client, trustBundle));
    assert.equal(out.data, '');
    assert.deepEqual(srv.accepted, []);
    assert.equal(srv.rejections.length, 1);
    assert.equal(
      srv.rejections[0]?.message,
      `peer rejected: peer identity ${CLIENT_ID} is not authorized`,
    );
  });

  it('server survives an authorize callback that throws, refusing that peer', async (t) => {
    const { trustBundle, server, client } = await setup();
    let calls = 0;
    const srv = await startServer(
      t,
      serverConfig(server, trustBundle, () => {
        if (++calls === 1) throw new Error('policy store unavailable');
        return true;
      }),
    );
    const first = await connect(srv.port, clientOptions(client, trustBundle));
    assert.equal(first.data, '');
    assert.equal(
      srv.rejections[0]?.message,
      `peer rejected: authorizing ${CLIENT_ID} failed: policy store unavailable`,
    );
    const second = await connect(srv.port, clientOptions(client, trustBundle));
    assert.equal(second.data, `hello ${CLIENT_ID}`);
  });

  it('rejects certificates from an untrusted root on both sides', async (t) => {
    const { trustBundle, server, client } = await setup();
    const other = await meshPki();
    const rogueServer = await workload(other.intermediate, SERVER_ID);
    const srv1 = await startServer(t, serverConfig(rogueServer, trustBundle));
    const out1 = await connect(srv1.port, clientOptions(client, trustBundle));
    assert.equal(out1.error?.code, 'SELF_SIGNED_CERT_IN_CHAIN');
    assert.match(out1.error?.message ?? '', /self-signed certificate in certificate chain/);
    assert.equal(out1.data, '');

    const rogueClient = await workload(other.intermediate, CLIENT_ID);
    const srv2 = await startServer(t, serverConfig(server, trustBundle));
    const out2 = await connect(srv2.port, clientOptions(rogueClient, trustBundle));
    assert.equal(out2.data, '');
    assert.deepEqual(srv2.accepted, []);
    assert.equal(srv2.rejections.length, 1);
    assert.equal(
      srv2.rejections[0]?.message,
      'peer rejected: no trusted root for "O=cluster.local, CN=Trellis Root CA": ' +
        'it is a self-signed certificate that is not in the trust bundle (SELF_SIGNED_CERT_IN_CHAIN)',
    );
  });

  it('rejects an expired certificate on both sides', async (t) => {
    const { server, client, pki } = await setup();
    const past = new Date(Date.now() - 2 * DAY);
    const oldPki = await meshPki({ now: new Date(past.getTime() - DAY) });
    const expiredServer = await workload(oldPki.intermediate, SERVER_ID, { now: past, ttlMs: DAY });
    const bundle = parseTrustBundle(oldPki.root.cert + pki.root.cert, {
      trustDomain: 'cluster.local',
    });
    const srv1 = await startServer(t, serverConfig(expiredServer, bundle));
    const out1 = await connect(srv1.port, clientOptions(client, bundle));
    assert.equal(out1.error?.code, 'CERT_HAS_EXPIRED');
    assert.match(out1.error?.message ?? '', /certificate has expired/);

    const expiredClient = await workload(oldPki.intermediate, CLIENT_ID, { now: past, ttlMs: DAY });
    const srv2 = await startServer(t, serverConfig(server, bundle));
    const out2 = await connect(srv2.port, clientOptions(expiredClient, bundle));
    assert.equal(out2.data, '');
    assert.equal(srv2.rejections.length, 1);
    const notAfter = inspectCertificate(expiredClient.cert).notAfter.toISOString();
    assert.equal(
      srv2.rejections[0]?.message,
      `peer rejected: certificate "${CLIENT_ID}" expired at ${notAfter} (CERT_HAS_EXPIRED)`,
    );
  });

  it('rejects a certificate with two URI SANs on both sides', async (t) => {
    const { trustBundle, server, client, pki } = await setup();
    const uris = [SERVER_ID, 'spiffe://cluster.local/ns/default/sa/admin'];
    const twoSans = await craftedLeaf(pki.intermediate, uris);
    const srv1 = await startServer(t, serverConfig(twoSans, trustBundle));
    const out1 = await connect(srv1.port, clientOptions(client, trustBundle));
    assert.ok(out1.error instanceof PeerRejectedError);
    assert.equal(
      out1.error.reason,
      `certificate "${uris.join(', ')}" has 2 URI SANs, expected exactly one`,
    );

    const srv2 = await startServer(t, serverConfig(server, trustBundle));
    const out2 = await connect(srv2.port, clientOptions(twoSans, trustBundle));
    assert.equal(out2.data, '');
    assert.equal(srv2.rejections.length, 1);
    assert.ok(srv2.rejections[0] instanceof PeerRejectedError);
    assert.equal(
      srv2.rejections[0].reason,
      `certificate "${uris.join(', ')}" has 2 URI SANs, expected exactly one`,
    );
  });

  it('rejects a peer from another trust domain signed by the trusted root', async (t) => {
    const { trustBundle, server, pki } = await setup();
    const foreign = await workload(pki.intermediate, 'spiffe://evil.example/ns/default/sa/client');
    const srv = await startServer(t, serverConfig(server, trustBundle));
    const out = await connect(srv.port, clientOptions(foreign, trustBundle));
    assert.equal(out.data, '');
    assert.equal(
      srv.rejections[0]?.message,
      'peer rejected: spiffe://evil.example/ns/default/sa/client is in trust domain "evil.example", expected "cluster.local"',
    );
  });

  it('decides every connection of the same certificates alike (a leaf checked once is remembered)', async (t) => {
    const { trustBundle, server, client } = await setup();
    let allow = true;
    const srv = await startServer(
      t,
      serverConfig(server, trustBundle, () => allow),
    );
    for (let i = 0; i < 3; i++) {
      const out = await connect(srv.port, clientOptions(client, trustBundle));
      assert.equal(out.data, `hello ${CLIENT_ID}`, `connection ${i + 1}`);
    }
    // The same server leaf, now against another expected identity and another trust domain.
    const wrong = await connect(
      srv.port,
      clientOptions(client, trustBundle, 'spiffe://cluster.local/ns/default/sa/db'),
    );
    assert.match(String(wrong.error?.message), /is not the expected .*sa\/db$/);
    const otherDomain = parseTrustBundle(trustBundle.pem, { trustDomain: 'other.local' });
    const foreign = await connect(
      srv.port,
      mtlsClientOptions({
        key: client.key,
        certChain: client.chain,
        trustBundle: otherDomain,
        expectedIdentity: SERVER_ID,
      }),
    );
    assert.match(
      String(foreign.error?.message),
      /in trust domain "cluster.local", expected "other.local"/,
    );
    // And the server's own authorization still runs on every connection.
    allow = false;
    const refused = await connect(srv.port, clientOptions(client, trustBundle));
    assert.equal(refused.data, '');
    assert.equal(srv.accepted.length, 3);
  });

  it('refuses TLS 1.2 and clients without a certificate', async (t) => {
    const { trustBundle, server, client } = await setup();
    const srv = await startServer(t, serverConfig(server, trustBundle));
    const old = await connect(srv.port, {
      ...clientOptions(client, trustBundle),
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
    });
    assert.match(old.error?.message ?? '', /protocol version|unsupported protocol/i);
    assert.equal(old.data, '');
    const { key: _key, cert: _cert, ...anonymous } = clientOptions(client, trustBundle);
    const anon = await connect(srv.port, anonymous);
    assert.equal(anon.data, '');
    assert.deepEqual(srv.accepted, []);
    assert.equal(srv.rejections.length, 2);
    assert.equal(srv.rejections[1]?.message, 'peer rejected: the peer presented no certificate');
  });

  it('requires the client to say which server it expects', async () => {
    const { trustBundle, client } = await setup();
    assert.throws(
      () => mtlsClientOptions({ key: client.key, certChain: client.chain, trustBundle } as never),
      /give expectedIdentity or authorize/,
    );
  });
});
