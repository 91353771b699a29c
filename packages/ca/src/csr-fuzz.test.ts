// Property tests (fast-check, fixed seed, bounded runs) of the CA's decoding of what a caller
// sends: PEM text of any shape and valid CSRs with bytes flipped, cut or inserted go through
// sign() and are either signed for the caller's own identity or refused with INVALID_ARGUMENT /
// PERMISSION_DENIED and a bounded message, never an internal error; and random bytes as the
// gRPC request body never stop the real server from signing the next valid request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { generateKeyPairSync } from 'node:crypto';
import { createCsr, inspectCertificate } from '@trellis/pki';
import fc from 'fast-check';
import { CaError } from './authority.js';
import { csrFor, startCa, tempDir, TD, WEB } from './test-support/static-token-ca.js';

const OTHER = `spiffe://${TD}/ns/prod/sa/api`;

function derOf(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
}
function pemOf(der: Uint8Array, label = 'CERTIFICATE REQUEST'): string {
  const b64 =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${b64.join('\n')}\n-----END ${label}-----\n`;
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array };

function mutate(der: Buffer, mutations: readonly Mutation[]): Buffer {
  let out = Buffer.from(der);
  for (const m of mutations) {
    const at = m.at % Math.max(1, out.length);
    if (m.kind === 'flip') out[at] = out[at]! ^ (1 << m.bit);
    else if (m.kind === 'cut') out = out.subarray(0, at);
    else out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
  }
  return out;
}

test('property: any CSR text is signed for the caller or refused with a clear reason', async (t) => {
  const { ca } = await startCa(t, tempDir(t));
  const valid = await csrFor(WEB);
  const other = await csrFor(OTHER);
  // A key the CA refuses as too weak.
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const rsaCsr = await createCsr({ identity: WEB, privateKey: rsa });
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
  );
  const csrText = fc.oneof(
    fc.string(),
    fc.constantFrom(valid, other, rsaCsr, valid + other, '', '-----BEGIN CERTIFICATE REQUEST-----'),
    fc
      .tuple(
        fc.constantFrom(valid, other, rsaCsr),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
      )
      .map(([pem, ms]) => pemOf(mutate(derOf(pem), ms))),
    fc.uint8Array({ maxLength: 600 }).map((b) => pemOf(b)),
    fc
      .tuple(fc.stringMatching(/^[A-Z0-9 ]{1,300}$/), fc.uint8Array({ maxLength: 64 }))
      .map(([label, b]) => pemOf(b, label)),
    fc.constant('x'.repeat(70 * 1024)),
  );
  await fc.assert(
    fc.asyncProperty(csrText, fc.bigInt({ min: -5n, max: 1n << 62n }), async (csr, validity) => {
      try {
        const chain = await ca.sign({
          csr,
          validitySeconds: validity,
          authorization: 'Bearer tok-web',
        });
        assert.deepEqual(
          inspectCertificate(chain[0]!).subjectAltName?.uris,
          [WEB],
          'signed only for the caller',
        );
      } catch (err) {
        assert.ok(err instanceof CaError, `not a CaError: ${String(err)}`);
        assert.ok(
          err.code === 'INVALID_ARGUMENT' || err.code === 'PERMISSION_DENIED',
          `${err.code}: ${err.message}`,
        );
        assert.ok(err.message.length > 0 && err.message.length < 500, err.message.slice(0, 600));
      }
    }),
    { seed: 9, numRuns: 300 },
  );
});

test('property: random bytes as a CreateCertificate body never stop the server', async (t) => {
  const running = await startCa(t, tempDir(t));
  const raw = new Client(running.address, credentials.createSsl(Buffer.from(running.ca.rootPem)));
  t.after(() => raw.close());
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
      const md = new Metadata();
      md.set('authorization', 'Bearer tok-web');
      const err = await new Promise<ServiceError | null>((resolve) =>
        raw.makeUnaryRequest(
          '/istio.v1.auth.IstioCertificateService/CreateCertificate',
          (b) => b,
          (b) => b,
          Buffer.from(bytes),
          md,
          resolve,
        ),
      );
      assert.ok(err, 'random bytes are never a signable request');
      assert.notEqual(err.code, status.OK);
      assert.ok((err.details ?? '').length < 500);
    }),
    { seed: 9, numRuns: 150 },
  );
  // Still serving.
  const chain = await running.client('tok-web').createCertificate(await csrFor(WEB));
  assert.deepEqual(inspectCertificate(chain[0]!).subjectAltName?.uris, [WEB]);
});
