import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hostProbeRules } from './host-probe.js';
import { inpodIptablesRules } from './inpod-iptables.js';
import { inpodRouteCommands } from './inpod-routes.js';
import { parseIptablesVersion, restoreCommand } from './iptables-backend.js';
import { hostProbeNftablesRules } from './host-probe-nftables.js';
import { inpodNftablesRules } from './inpod-nftables.js';

const goldenDir = join(dirname(fileURLToPath(import.meta.url)), '../../testdata/rules');

function golden(name: string, actual: string): void {
  const file = join(goldenDir, `${name}.golden`);
  if (process.env.REFRESH_GOLDEN === '1') writeFileSync(file, actual);
  assert.equal(
    actual,
    readFileSync(file, 'utf8'),
    `${file} differs (REFRESH_GOLDEN=1 rewrites it)`,
  );
}

const cases: Record<string, () => string> = {
  'inpod-ipv4': () => inpodIptablesRules({ family: 4 }),
  'inpod-ipv4-dns': () => inpodIptablesRules({ family: 4, dnsCapture: true }),
  'inpod-ipv6': () => inpodIptablesRules({ family: 6 }),
  'inpod-ipv6-dns': () => inpodIptablesRules({ family: 6, dnsCapture: true }),
  'routes-ipv4': () =>
    inpodRouteCommands(4)
      .map((c) => `ip ${c.join(' ')}`)
      .join('\n') + '\n',
  'routes-ipv6': () =>
    inpodRouteCommands(6)
      .map((c) => `ip ${c.join(' ')}`)
      .join('\n') + '\n',
  'host-probe-ipv4': () => hostProbeRules({ family: 4, ipset: 'istio-inpod-probes-v4' }),
  'host-probe-ipv6': () => hostProbeRules({ family: 6, ipset: 'istio-inpod-probes-v6' }),
  'nft-inpod-ipv4': () => inpodNftablesRules({ families: [4] }),
  'nft-inpod-ipv4-dns': () => inpodNftablesRules({ families: [4], dnsCapture: true }),
  'nft-inpod-dual-dns': () => inpodNftablesRules({ families: [4, 6], dnsCapture: true }),
  'nft-host-probe-dual': () => hostProbeNftablesRules([4, 6]),
};

for (const [name, build] of Object.entries(cases)) {
  test(`golden: ${name}`, () => golden(name, build()));
}

test('DNS capture adds the two port-53 redirects before the outbound redirect, and the conntrack zone rules', () => {
  const plain = inpodIptablesRules({ family: 4 }).split('\n');
  const dns = inpodIptablesRules({ family: 4, dnsCapture: true }).split('\n');
  const added = dns.filter((l) => !plain.includes(l));
  const redirects = added.filter((l) => l.includes('REDIRECT'));
  assert.equal(redirects.length, 2);
  assert.ok(redirects.every((l) => l.includes('--dport 53') && l.endsWith('--to-ports 15053')));
  assert.ok(dns.indexOf(redirects[1]!) < dns.findIndex((l) => l.includes('--to-ports 15001')));
  assert.deepEqual(
    added.filter((l) => l.includes('CT --zone 1')).length,
    2,
    'raw table: the forwarded query and its replies go to conntrack zone 1',
  );
});

test('nft rules with DNS capture redirect port 53 and add the raw table; without, neither', () => {
  const dns = inpodNftablesRules({ families: [4], dnsCapture: true });
  const plain = inpodNftablesRules({ families: [4] });
  assert.match(dns, /udp dport 53 counter redirect to :15053/);
  assert.match(dns, /add table inet istio-ambient-raw/);
  assert.doesNotMatch(plain, /15053|istio-ambient-raw/);
  assert.doesNotMatch(inpodNftablesRules({ families: [6] }), /\d+\.\d+\.\d+\.\d+/);
  assert.throws(() => inpodNftablesRules({ families: [] }), /families must be 4 and\/or 6/);
});

test('ipv6 rules never mention an IPv4 address', () => {
  assert.doesNotMatch(inpodIptablesRules({ family: 6, dnsCapture: true }), /\d+\.\d+\.\d+\.\d+/);
});

test('bad family and bad ipset names are refused with a reason', () => {
  assert.throws(() => inpodIptablesRules({ family: 5 as 4 }), /family must be 4 or 6, got 5/);
  assert.throws(() => hostProbeRules({ family: 4, ipset: 'a b' }), /ipset name 'a b'/);
});

test('parseIptablesVersion tells nft from legacy', () => {
  assert.deepEqual(parseIptablesVersion('iptables v1.8.9 (nf_tables)\n'), {
    version: '1.8.9',
    backend: 'nft',
  });
  assert.deepEqual(parseIptablesVersion('iptables v1.8.7 (legacy)'), {
    version: '1.8.7',
    backend: 'legacy',
  });
  assert.deepEqual(parseIptablesVersion('ip6tables-legacy v1.8.9 (legacy)'), {
    version: '1.8.9',
    backend: 'legacy',
  });
  assert.deepEqual(parseIptablesVersion('iptables v1.6.1'), {
    version: '1.6.1',
    backend: 'legacy',
  });
  assert.throws(
    () => parseIptablesVersion('command not found'),
    /cannot parse iptables version from 'command not found'/,
  );
  assert.throws(
    () => parseIptablesVersion('iptables v1.9.0 (weird)'),
    /unknown iptables backend 'weird'/,
  );
  assert.equal(restoreCommand('nft', 6), 'ip6tables-nft-restore');
});
