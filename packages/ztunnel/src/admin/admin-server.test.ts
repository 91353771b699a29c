import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { test } from 'node:test';
import { createLogger } from '@trellis/core';
import { StateStore } from '../state/store.js';
import { policy, service, workload } from '../test-support/fixtures.js';
import { createAdminServer, type AdminOptions } from './admin-server.js';
import type { ConfigDump } from './config-dump.js';
import { listen } from './listen.js';
import { Readiness } from './readiness.js';
import { createReadinessServer } from './readiness-server.js';

async function serve(t: { after(fn: () => Promise<void>): void }, server: Server): Promise<string> {
  const port = await listen(server, { host: '127.0.0.1', port: 0 });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${port}`;
}

function admin(fields: Partial<AdminOptions> = {}) {
  const store = new StateStore();
  const log = createLogger({ level: 'info', destination: { write: () => {} } });
  const server = createAdminServer({ store, log, onQuit: () => {}, ...fields });
  return { store, log, server };
}

test('/config_dump shows the store, the certificates with time to expiry, and the settings', async (t) => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  const { store, server } = admin({
    config: { network: 'net-a' },
    now: () => now,
    certificates: async () => [
      {
        identity: 'spiffe://cluster.local/ns/b/sa/b',
        serialNumber: '02',
        notBefore: '2029-12-31T00:00:00Z',
        notAfter: '2030-01-01T01:00:00Z',
      },
      {
        identity: 'spiffe://cluster.local/ns/a/sa/a',
        serialNumber: '01',
        notBefore: '2029-12-31T00:00:00Z',
        notAfter: '2030-01-01T00:00:30Z',
      },
    ],
  });
  const base = await serve(t, server);
  store.apply({
    upsertWorkloads: [
      workload({
        uid: 'w1',
        addresses: ['10.0.0.1'],
        services: { 'default/web': [{ servicePort: 80, targetPort: 8080 }] },
      }),
    ],
    upsertServices: [service({ hostname: 'web' })],
    upsertPolicies: [policy({ name: 'p' })],
  });
  const res = await fetch(`${base}/config_dump`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const dump = (await res.json()) as ConfigDump;
  assert.deepEqual(
    dump.workloads.map((w) => [w.uid, w.addresses]),
    [['w1', ['10.0.0.1']]],
  );
  assert.deepEqual(
    dump.services.map((s) => [s.hostname, s.endpoints]),
    [['web', { w1: [{ servicePort: 80, targetPort: 8080 }] }]],
  );
  assert.deepEqual(
    dump.policies.map((p) => p.name),
    ['p'],
  );
  assert.deepEqual(
    dump.certificates.map((c) => [c.identity, c.serialNumber, c.expiresInSeconds]),
    [
      ['spiffe://cluster.local/ns/a/sa/a', '01', 30],
      ['spiffe://cluster.local/ns/b/sa/b', '02', 3600],
    ],
  );
  assert.deepEqual(dump.config, { network: 'net-a' });
});

test('/config_dump lists no certificates without a provider', async (t) => {
  const { server } = admin();
  const dump = (await (await fetch(`${await serve(t, server)}/config_dump`)).json()) as ConfigDump;
  assert.deepEqual(dump.certificates, []);
  assert.deepEqual(dump.workloads, []);
});

test('/logging lists levels and changes the default or one scope, refusing bad input whole', async (t) => {
  const { log, server } = admin();
  const base = await serve(t, server);
  log.scope('rbac');
  assert.deepEqual(await (await fetch(`${base}/logging`)).json(), {
    level: 'info',
    scopes: { rbac: 'info' },
  });

  let res = await fetch(`${base}/logging?rbac=debug`, { method: 'POST' });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { level: 'info', scopes: { rbac: 'debug' } });
  assert.equal(log.scope('rbac').level, 'debug');

  res = await fetch(`${base}/logging?level=warn`, { method: 'POST' });
  assert.deepEqual(await res.json(), { level: 'warn', scopes: { rbac: 'debug' } });
  assert.equal(log.root.level, 'warn');

  res = await fetch(`${base}/logging?level=error&rbac=noisy`, { method: 'POST' });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /rbac: unknown log level "noisy"/);
  assert.equal(log.root.level, 'warn', 'nothing changed');

  res = await fetch(`${base}/logging?rbac=default`, { method: 'POST' });
  assert.deepEqual(await res.json(), { level: 'warn', scopes: { rbac: 'warn' } });

  res = await fetch(`${base}/logging?level=debug`);
  assert.equal(res.status, 405, 'changes need POST');
});

test('/quitquitquit answers, then asks for shutdown; only POST', async (t) => {
  let quits = 0;
  const { server } = admin({ onQuit: () => quits++ });
  const base = await serve(t, server);
  assert.equal((await fetch(`${base}/quitquitquit`)).status, 405);
  assert.equal(quits, 0);
  const res = await fetch(`${base}/quitquitquit`, { method: 'POST' });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'shutting down\n');
  // onQuit runs once the response has been written out.
  while (quits === 0) await new Promise((r) => setImmediate(r));
  assert.equal(quits, 1);
});

test('unknown paths list the endpoints', async (t) => {
  const { server } = admin();
  const res = await fetch(`${await serve(t, server)}/stats`);
  assert.equal(res.status, 404);
  assert.match(await res.text(), /\/config_dump\n\/logging\n\/quitquitquit/);
});

test('readiness: 503 naming what it waits for, then 200', async (t) => {
  const readiness = new Readiness();
  const configDone = readiness.block('initial config');
  const certDone = readiness.block('certificates');
  const server = createReadinessServer(readiness);
  const base = await serve(t, server);
  let res = await fetch(`${base}/healthz/ready`);
  assert.equal(res.status, 503);
  assert.equal(await res.text(), 'not ready: waiting for certificates, initial config\n');
  configDone();
  certDone();
  res = await fetch(`${base}/healthz/ready`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ready\n');
  assert.equal((await fetch(`${base}/other`)).status, 404);
  readiness.block('x');
  assert.throws(() => readiness.block('x'), /readiness task "x" is already registered/);
  assert.equal(readiness.ready, false);
});
