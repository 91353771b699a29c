// The DNS proxy in a real pod netns (root): the in-pod rules with DNS capture send the pod's port-53
// traffic to it; real CoreDNS is the upstream resolver; Node's resolver (c-ares, run inside the
// netns) is the client, as an app would be. Checked: mesh names (FQDN and short forms) answered
// from the store, other names and record types forwarded, a large upstream answer fetched over TCP
// and handed to the UDP client truncated so it retries over TCP, malformed queries answered
// FORMERR or ignored, and forwarded queries leave marked (else the capture would loop them back).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { createLogger } from '@trellis/core';
import { applyInpodRules, startCoreDnsIn, tryRun, type CoreDns } from '@trellis/testing';
import { ZTUNNEL_MARK } from '../proxy/socket-ops.js';
import { StateStore } from '../state/store.js';
import { service } from '../test-support/fixtures.js';
import { startPodDns, type PodDns } from './server.js';
import { netnsUpstreamSockets, Upstream } from './upstream.js';

const NS = `trellis-dns-${process.pid}`;
const NETNS = `/run/netns/${NS}`;
// The pod's resolver as its resolv.conf names it: off-link, reached only through the capture.
const POD_RESOLVER = '10.77.0.53';
const BIG = 60;

let coredns: CoreDns | undefined;
let dns: PodDns | undefined;
const logger = createLogger({ name: 'dns-test', level: 'error' }).scope('dns');

before(async () => {
  assert.equal(process.getuid?.(), 0, 'needs root');
  const ip = (...args: string[]) => execFileSync('ip', ['-n', NS, ...args]);
  execFileSync('ip', ['netns', 'add', NS]);
  ip('link', 'set', 'lo', 'up');
  ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0');
  ip('addr', 'add', '10.77.0.2/24', 'dev', 'eth0');
  ip('link', 'set', 'eth0', 'up');
  ip('link', 'set', 'peer0', 'up');
  applyInpodRules(NS, { dnsCapture: true });
  const hosts = [
    '10.9.9.9 external.example',
    ...Array.from({ length: BIG }, (_, i) => `10.8.0.${i + 1} big.example`),
  ];
  coredns = await startCoreDnsIn(
    NS,
    `.:53 {\n  bind 127.0.0.53\n  hosts {\n    ${hosts.join('\n    ')}\n  }\n  template IN MX external.example {\n    answer "{{ .Name }} 60 IN MX 10 mail.external.example."\n  }\n  template IN ANY nope.example {\n    rcode NXDOMAIN\n  }\n}\n`,
  );
  const store = new StateStore();
  store.apply({
    upsertServices: [
      service({
        hostname: 'web.shop.svc.cluster.local',
        namespace: 'shop',
        vips: [{ network: '', address: '10.96.0.7' }],
      }),
    ],
  });
  dns = await startPodDns(
    {
      view: store,
      client: { namespace: 'shop', network: '' },
      options: { clusterDomain: 'cluster.local', ipv6: true },
      upstream: new Upstream(
        [{ host: '127.0.0.53', port: 53 }],
        netnsUpstreamSockets(NETNS, ZTUNNEL_MARK),
      ),
      logger,
    },
    { netns: NETNS },
  );
});

after(async () => {
  await dns?.close();
  await coredns?.stop();
  tryRun('ip', ['netns', 'del', NS]);
});

/** Runs `body` (an async function of `resolver`, `net`, `dgram`) in the pod netns with Node. */
async function inPod(body: string): Promise<unknown> {
  const script = `
    const { Resolver } = require('node:dns').promises;
    const net = require('node:net');
    const dgram = require('node:dgram');
    const resolver = new Resolver({ timeout: 3000, tries: 1 });
    resolver.setServers(['${POD_RESOLVER}']);
    (async () => { ${body} })().then(
      (v) => process.stdout.write(JSON.stringify(v)),
      (e) => { process.stdout.write(JSON.stringify({ error: e.code ?? e.message })); },
    );`;
  // Not execFileSync: the proxy under test runs in this process and must keep answering.
  const { stdout } = await promisify(execFile)(
    'ip',
    ['netns', 'exec', NS, process.execPath, '-e', script],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return JSON.parse(stdout);
}

test('a mesh service is answered from the store, by FQDN and by short name', async () => {
  assert.deepEqual(await inPod(`return resolver.resolve4('web.shop.svc.cluster.local')`), [
    '10.96.0.7',
  ]);
  assert.deepEqual(await inPod(`return resolver.resolve4('web')`), ['10.96.0.7']);
  assert.deepEqual(await inPod(`return resolver.resolve4('web.shop', { ttl: true })`), [
    { address: '10.96.0.7', ttl: 30 },
  ]);
});

test('other names and record types go to the upstream resolver', async () => {
  assert.deepEqual(await inPod(`return resolver.resolve4('external.example')`), ['10.9.9.9']);
  assert.deepEqual(await inPod(`return resolver.resolveMx('external.example')`), [
    { exchange: 'mail.external.example', priority: 10 },
  ]);
  assert.deepEqual(await inPod(`return resolver.resolve4('nope.example')`), { error: 'ENOTFOUND' });
});

test('a large answer: upstream over TCP after its truncated UDP answer, the UDP client told to retry over TCP', async () => {
  const r = await inPod(`
    const q = Buffer.from('abcd01000001000000000000' + '03626967076578616d706c6500' + '00010001', 'hex');
    const s = dgram.createSocket('udp4');
    const udp = await new Promise((res) => { s.on('message', (m) => res(m)); s.send(q, 53, '${POD_RESOLVER}'); });
    s.close();
    const all = await resolver.resolve4('big.example');
    return { udpLength: udp.length, tc: (udp[2] & 2) !== 0, answers: udp.readUInt16BE(6), all: all.length };
  `);
  assert.deepEqual(r, { udpLength: 29, tc: true, answers: 0, all: BIG });
});

test('DNS over TCP, and malformed queries: FORMERR with the id, or no answer at all', async () => {
  const r = await inPod(`
    const send = (hex) => new Promise((res) => {
      const s = dgram.createSocket('udp4');
      const t = setTimeout(() => { s.close(); res(null); }, 500);
      s.on('message', (m) => { clearTimeout(t); s.close(); res(m.toString('hex')); });
      s.send(Buffer.from(hex, 'hex'), 53, '${POD_RESOLVER}');
    });
    const tcp = await new Promise((res, rej) => {
      const c = net.connect(53, '${POD_RESOLVER}');
      const q = Buffer.from('beef01000001000000000000' + '03776562000001' + '0001', 'hex');
      const len = Buffer.alloc(2); len.writeUInt16BE(q.length);
      let got = Buffer.alloc(0);
      c.on('data', (d) => { got = Buffer.concat([got, d]); if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) { c.end(); res(got.subarray(2).toString('hex')); } });
      c.on('error', rej);
      c.write(Buffer.concat([len, q]));
    });
    return {
      tcp,
      garbage: await send('1234010000010000000000000377'),
      short: await send('1234'),
      response: await send('123481800001000000000000'),
      after: await resolver.resolve4('web'),
    };
  `);
  assert.deepEqual(r, {
    // id beef, QR AA RD RA, 1 question, 1 answer: web A 10.96.0.7 ttl 30.
    tcp: 'beef85800001000100000000037765620000010001c00c000100010000001e00040a600007',
    garbage: '123481810000000000000000',
    short: null,
    response: '123481810000000000000000',
    after: ['10.96.0.7'],
  });
});
