// Run by ca-client.test.ts in its own network and mount namespaces, where /etc/hosts and
// /etc/resolv.conf are files of the test: asks a CA by the name `trellis-ca` every 200 ms; the
// name first does not resolve (as a reinstalled CA's Service name while the cluster DNS still
// caches "no such name"), and resolves from RESOLVE_AFTER_MS on. The client's longest reconnect
// delay is MAX_RECONNECT_MS. Prints when it resolved, when the first certificate came and the
// distinct errors before, as JSON.
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCaClient } from '../client/ca-client.js';
import { csrFor, startCa, tempDir, WEB } from './static-token-ca.js';

const cleanups: (() => void | Promise<void>)[] = [];
const t = { after: (fn: () => void | Promise<void>) => void cleanups.push(fn) };
const ca = await startCa(t, tempDir(t));
const client = createCaClient({
  address: `trellis-ca:${ca.server.port}`,
  rootPem: ca.ca.rootPem,
  token: () => 'tok-web',
  maxReconnectDelayMs: Number(process.env['MAX_RECONNECT_MS']),
});
const resolveAfterMs = Number(process.env['RESOLVE_AFTER_MS']);
const csr = await csrFor(WEB);
const start = Date.now();
const result: { resolvedAtMs?: number; firstCertificateAtMs?: number; errors: string[] } = {
  errors: [],
};
while (Date.now() - start < 45_000) {
  if (result.resolvedAtMs === undefined && Date.now() - start >= resolveAfterMs) {
    appendFileSync('/etc/hosts', '127.0.0.1 trellis-ca\n');
    result.resolvedAtMs = Date.now() - start;
  }
  try {
    await client.createCertificate(csr);
    result.firstCertificateAtMs = Date.now() - start;
    break;
  } catch (e) {
    const message = (e as Error).message;
    if (!result.errors.includes(message)) result.errors.push(message);
  }
  await sleep(200);
}
client.close();
for (const fn of cleanups.reverse()) await fn();
console.log(JSON.stringify(result));
