// The secure port of the real binary in config-dir mode (--ca-dir, --static-tokens): the CA's
// CreateCertificate and xDS on one TLS port; an xDS stream with a valid bearer token (or a mesh
// client certificate issued by that CA) is served, one without credentials or with an unknown
// token ends with UNAUTHENTICATED, and one whose node id claims another namespace than its
// caller's ends with PERMISSION_DENIED.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import {
  credentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ServiceError,
} from '@grpc/grpc-js';
import { ADDRESS_TYPE_URL, grpcClientConstructor } from '@trellis/api';
import { AggregatedDiscoveryService } from '@trellis/api/gen/envoy/service/discovery/v3/ads_pb.js';
import { DeltaDiscoveryRequestSchema } from '@trellis/api/gen/envoy/service/discovery/v3/discovery_pb.js';
import { createCaClient } from '@trellis/ca';
import { eventually } from '@trellis/core/test-support';
import { createCsr, generateKeyPair, inspectCertificate } from '@trellis/pki';
import { startControlPlaneProcess } from './test-support/control-plane-process.js';
import { wdsClient } from './test-support/wds-client.js';

const TESTDATA = fileURLToPath(new URL('../../testdata/', import.meta.url));
const TOKENS = [
  { token: 'ztunnel-token', namespace: 'istio-system', serviceAccount: 'ztunnel', node: 'node-1' },
  { token: 'reviews-token', namespace: 'bookinfo', serviceAccount: 'reviews' },
];

test(
  'the secure port serves the CA and authenticated xDS on one TLS listener',
  { timeout: 180_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-secure-'));
    const configDir = join(dir, 'config');
    const caDir = join(dir, 'ca');
    const tokens = join(dir, 'tokens.yaml');
    mkdirSync(configDir);
    writeFileSync(
      join(configDir, 'mesh.yaml'),
      readFileSync(join(TESTDATA, 'authz-allow.in.yaml')),
    );
    writeFileSync(tokens, JSON.stringify(TOKENS));
    const cp = await startControlPlaneProcess([
      `--config-dir=${configDir}`,
      `--ca-dir=${caDir}`,
      `--static-tokens=${tokens}`,
      '--secure-xds-address=127.0.0.1:0',
      '--xds-address=off',
      '--debug-address=off',
    ]);
    const closers: (() => void)[] = [];
    t.after(async () => {
      for (const c of closers) c();
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    assert.equal(cp.ports.xds, undefined, '--xds-address=off opens no plaintext port');
    const address = `127.0.0.1:${cp.ports.secureXds}`;
    const rootPem = readFileSync(join(caDir, 'root-cert.pem'), 'utf8');

    // The CA on the secure port.
    const key = await generateKeyPair('ecdsa-p256');
    const identity = 'spiffe://cluster.local/ns/bookinfo/sa/reviews';
    const ca = createCaClient({ address, rootPem, token: () => 'reviews-token' });
    closers.push(() => ca.close());
    const chain = await ca.createCertificate(
      await createCsr({ identity, privateKey: key.privateKey }),
    );
    assert.deepEqual(inspectCertificate(chain[0]!).subjectAltName?.uris, [identity]);
    assert.equal(chain.at(-1)!.trim(), rootPem.trim(), 'the chain ends with the root in --ca-dir');

    // xDS with a bearer token on the same port.
    const tls = credentials.createSsl(Buffer.from(rootPem));
    const withToken = credentials.combineChannelCredentials(
      tls,
      credentials.createFromMetadataGenerator((_params, callback) => {
        const md = new Metadata();
        md.set('authorization', 'Bearer ztunnel-token');
        callback(null, md);
      }),
    );
    const tokenClient = wdsClient(address, withToken);
    closers.push(() => tokenClient.close());
    await eventually('Addresses over the token-authenticated stream', () =>
      tokenClient.addresses.resources().size > 0 ? true : undefined,
    );
    assert.ok(tokenClient.addresses.resources().has('Kubernetes//Pod/bookinfo/reviews-v1'));

    // xDS with the mesh certificate the CA just issued, no token.
    const certClient = wdsClient(
      address,
      credentials.createSsl(
        Buffer.from(rootPem),
        Buffer.from(key.privateKey),
        Buffer.from(chain.join('')),
      ),
      'ztunnel~10.0.0.10~reviews-v1.bookinfo~bookinfo.svc.cluster.local',
    );
    closers.push(() => certClient.close());
    await eventually('Addresses over the certificate-authenticated stream', () =>
      certClient.addresses.resources().size > 0 ? true : undefined,
    );

    // Refused streams.
    const noCredentials = await refusedStream(address, tls);
    assert.equal(noCredentials.code, status.UNAUTHENTICATED);
    assert.match(noCredentials.details, /no credentials/);
    const badToken = await refusedStream(address, tls, 'Bearer not-a-known-token');
    assert.equal(badToken.code, status.UNAUTHENTICATED);
    assert.match(badToken.details, /not one of the static tokens/);

    // Authenticated, but the node id claims another namespace than the caller's.
    const tokenForOtherNamespace = await refusedStream(
      address,
      tls,
      'Bearer ztunnel-token',
      'ztunnel~10.0.0.11~x.bookinfo~bookinfo.svc.cluster.local',
    );
    assert.equal(tokenForOtherNamespace.code, status.PERMISSION_DENIED);
    assert.match(
      tokenForOtherNamespace.details,
      /claims namespace "bookinfo", but the caller authenticated as namespace "istio-system"/,
    );
    const certForOtherNamespace = await refusedStream(
      address,
      credentials.createSsl(
        Buffer.from(rootPem),
        Buffer.from(key.privateKey),
        Buffer.from(chain.join('')),
      ),
      undefined,
      'ztunnel~10.0.0.12~ztunnel-x.istio-system~istio-system.svc.cluster.local',
    );
    assert.equal(certForOtherNamespace.code, status.PERMISSION_DENIED);
    assert.match(
      certForOtherNamespace.details,
      /claims namespace "istio-system", but the caller authenticated as namespace "bookinfo"/,
    );
    // The refused streams did not stop the others from being served.
    assert.ok(tokenClient.addresses.resources().has('Kubernetes//Pod/bookinfo/reviews-v1'));
  },
);

/** Opens a raw delta ADS stream and resolves with the error that ends it (a response fails the test). */
function refusedStream(
  address: string,
  creds: ChannelCredentials,
  authorization?: string,
  nodeId = 'ztunnel~1.2.3.4~x.y~y.svc.cluster.local',
): Promise<ServiceError> {
  const Ads = grpcClientConstructor(AggregatedDiscoveryService);
  const client = new Ads(address, creds);
  const md = new Metadata();
  if (authorization) md.set('authorization', authorization);
  const call = client.deltaAggregatedResources(md);
  call.write(
    create(DeltaDiscoveryRequestSchema, {
      typeUrl: ADDRESS_TYPE_URL,
      node: { id: nodeId },
      resourceNamesSubscribe: ['*'],
    }),
  );
  return new Promise((resolve, reject) => {
    call.on('data', () =>
      reject(new Error('the stream without valid credentials received a response')),
    );
    call.on('error', (err: ServiceError) => {
      client.close();
      resolve(err);
    });
  });
}
