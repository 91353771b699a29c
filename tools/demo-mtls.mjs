#!/usr/bin/env node
// The main job until the mesh installs end to end: a real SPIFFE mTLS exchange on loopback.
// A root CA signs two workload identities from their CSRs; the backend accepts only the frontend,
// the frontend accepts only the backend; then an intruder identity is refused by the backend and a
// client expecting someone else refuses the backend. Exits non-zero if any outcome differs.
import tls from 'node:tls';
import {
  createCsr,
  createMtlsServer,
  createRootCa,
  generateKeyPair,
  issueWorkloadCertificate,
  mtlsClientOptions,
  parseCsr,
  parseTrustBundle,
} from '@trellis/pki';

const TD = 'cluster.local';
const id = (ns, sa) => `spiffe://${TD}/ns/${ns}/sa/${sa}`;
const FRONTEND = id('shop', 'frontend');
const BACKEND = id('shop', 'backend');
const INTRUDER = id('shop', 'intruder');

const root = await createRootCa({ commonName: 'trellis demo root', ttlMs: 24 * 3600e3 });
const trustBundle = parseTrustBundle(root.cert, { trustDomain: TD });
console.log(`root CA created; trust domain ${TD}`);

async function workload(identity) {
  const keys = await generateKeyPair();
  const csr = await parseCsr(await createCsr({ identity, privateKey: keys.privateKey }));
  const issued = await issueWorkloadCertificate({
    publicKey: csr.publicKey,
    identity,
    issuer: root,
    ttlMs: 3600e3,
  });
  console.log(
    `issued ${identity} (CSR with one URI SAN, signature ${csr.signatureValid ? 'valid' : 'INVALID'})`,
  );
  return { key: keys.privateKey, certChain: issued.chain, trustBundle };
}

const [frontend, backend, intruder] = await Promise.all([
  workload(FRONTEND),
  workload(BACKEND),
  workload(INTRUDER),
]);

const refusals = [];
const server = createMtlsServer(
  { ...backend, authorize: (peer) => peer.uri === FRONTEND },
  (socket, peer) => {
    socket.once('data', (msg) => socket.end(`backend got "${msg}" from ${peer.uri}`));
  },
);
server.on('tlsClientError', (err) => refusals.push(err.message));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
console.log(
  `backend (${BACKEND}) listening on 127.0.0.1:${port}, TLS 1.3, accepts only ${FRONTEND}\n`,
);

function call(creds, expectedIdentity) {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      ...mtlsClientOptions({ ...creds, expectedIdentity }),
    });
    let reply = '';
    socket.on('secureConnect', () => socket.write('hello'));
    socket.on('data', (d) => (reply += d));
    socket.on('end', () =>
      resolve({ ok: reply !== '', reply: reply || 'connection closed without a reply' }),
    );
    socket.on('error', (err) => resolve({ ok: false, reply: err.message }));
  });
}

const cases = [
  { who: FRONTEND, creds: frontend, expect: BACKEND, wantOk: true },
  { who: INTRUDER, creds: intruder, expect: BACKEND, wantOk: false },
  { who: FRONTEND, creds: frontend, expect: id('shop', 'payments'), wantOk: false },
];
let failures = 0;
for (const c of cases) {
  const r = await call(c.creds, c.expect);
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the server record its side
  const verdict = r.ok === c.wantOk ? 'as expected' : 'UNEXPECTED';
  if (r.ok !== c.wantOk) failures++;
  console.log(`${c.who} -> backend (client expects ${c.expect}):`);
  console.log(`  ${r.ok ? 'OK' : 'refused'}: ${r.reply}  [${verdict}]`);
  const serverSide = refusals.splice(0);
  for (const reason of serverSide) console.log(`  backend says: ${reason}`);
}
server.close();
console.log(
  failures === 0
    ? '\nmTLS demo: every outcome as expected'
    : `\nmTLS demo: ${failures} unexpected outcome(s)`,
);
process.exit(failures === 0 ? 0 : 1);
