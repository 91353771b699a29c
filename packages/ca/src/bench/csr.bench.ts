// Benchmark (not a test): CSRs signed per second on one core, with the cost split into CSR
// verification, signing and the rest (authentication, protobuf, gRPC + TLS over loopback),
// measured in one run. Prints and writes bench-results.txt. Run: npm run bench -w @trellis/ca
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createCsr, generateKeyPair, issueWorkloadCertificate, parseCsr } from '@trellis/pki';
import { CertificateAuthority } from '../authority.js';
import { staticIdentities } from '../authn/static.js';
import { createCaClient } from '../client/ca-client.js';
import { dirStore } from '../dir-store.js';
import { loadOrCreateCa } from '../roots.js';
import { createCaServer } from '../server.js';

const N = Number(process.env['BENCH_N'] ?? 500);
const ID = 'spiffe://cluster.local/ns/default/sa/web';

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return (performance.now() - t0) / n;
}

const dir = mkdtempSync(join(tmpdir(), 'trellis-ca-bench-'));
try {
  const material = await loadOrCreateCa(dirStore(dir), { trustDomain: 'cluster.local' });
  const { privateKey } = await generateKeyPair();
  const csrs = await Promise.all(
    Array.from({ length: 20 }, () => createCsr({ identity: ID, privateKey })),
  );
  const parsed = await parseCsr(csrs[0]!);
  const ca = new CertificateAuthority({
    ...material,
    ...staticIdentities([{ token: 'bench', namespace: 'default', serviceAccount: 'web' }]),
    trustDomain: 'cluster.local',
  });
  const server = await createCaServer({ ca, host: '127.0.0.1', port: 0 });
  const client = createCaClient({
    address: `127.0.0.1:${server.port}`,
    rootPem: material.rootPem,
    token: () => 'bench',
  });
  await client.createCertificate(csrs[0]!); // warm-up: TLS handshake, JIT

  const verifyMs = await timed(N, (i) => parseCsr(csrs[i % csrs.length]!));
  const signMs = await timed(N, () =>
    issueWorkloadCertificate({
      publicKey: parsed.publicKey,
      identity: ID,
      issuer: material.issuer,
      ttlMs: 3600_000,
    }),
  );
  const inProcessMs = await timed(N, (i) =>
    ca.sign({ csr: csrs[i % csrs.length]!, validitySeconds: 0n, authorization: 'Bearer bench' }),
  );
  const grpcMs = await timed(N, (i) => client.createCertificate(csrs[i % csrs.length]!));
  client.close();
  await server.close();

  const lines = [
    `trellis-ca CSR benchmark, ${new Date().toISOString()}`,
    `node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'}, one process, sequential requests, N=${N}, ECDSA P-256 root and CSRs`,
    `end to end over gRPC + TLS (127.0.0.1): ${(1000 / grpcMs).toFixed(0)} CSRs/s (${grpcMs.toFixed(3)} ms each)`,
    `  verify CSR (parse + signature check):  ${verifyMs.toFixed(3)} ms  (${((verifyMs / grpcMs) * 100).toFixed(0)}%)`,
    `  sign certificate:                      ${signMs.toFixed(3)} ms  (${((signMs / grpcMs) * 100).toFixed(0)}%)`,
    `  CertificateAuthority.sign in process (authn + policy + verify + sign): ${inProcessMs.toFixed(3)} ms`,
    `  encode + transport (client and server): ${Math.max(0, grpcMs - inProcessMs).toFixed(3)} ms  (end to end minus in-process, ${((Math.max(0, grpcMs - inProcessMs) / grpcMs) * 100).toFixed(0)}%)`,
  ];
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  writeFileSync(fileURLToPath(new URL('../../bench-results.txt', import.meta.url)), text);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
