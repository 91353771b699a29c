// The in-pod rules in real network namespaces (root): for iptables-nft, iptables-legacy and native
// nftables, applying sets everything up, applying again changes nothing, drift is reported after a
// rule is deleted by hand, DNS capture can be turned off, and removal leaves nothing behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import { applyPodRules, podRulesDrift, removePodRules, type RulesMode } from './inpod-rules.js';

const created: string[] = [];
after(() => {
  for (const ns of created) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
});

function netns(tag: string): string {
  const name = `tcr${process.pid}${tag}`;
  execFileSync('ip', ['netns', 'add', name]);
  created.push(name);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return `/run/netns/${name}`;
}

function inNs(path: string, cmd: string, args: string[]): string {
  return execFileSync('nsenter', [`--net=${path}`, cmd, ...args], { encoding: 'utf8' });
}

const modes: Record<string, RulesMode> = {
  'iptables-nft': { kind: 'iptables', backend: 'nft' },
  'iptables-legacy': { kind: 'iptables', backend: 'legacy' },
  nftables: { kind: 'nftables' },
};

for (const [name, mode] of Object.entries(modes)) {
  test(`${name}: apply, re-apply is a no-op, drift, DNS off, removal`, async () => {
    const ns = netns(String(Object.keys(modes).indexOf(name)));
    const want = { families: [4 as const], dnsCapture: true };
    assert.equal(await applyPodRules(ns, mode, want), true, 'first apply changes the netns');
    assert.deepEqual(await podRulesDrift(ns, mode, want), []);
    assert.equal(await applyPodRules(ns, mode, want), false, 'second apply touches nothing');
    assert.match(
      inNs(ns, 'ip', ['rule', 'show']),
      /32764:\s+from all fwmark 0x111\/0xfff lookup 100/,
    );
    assert.match(inNs(ns, 'ip', ['route', 'show', 'table', '100']), /local default dev lo/);

    // Someone deletes the outbound redirect: drift says so, apply repairs it.
    if (mode.kind === 'iptables')
      inNs(ns, `iptables-${mode.backend}`, [
        '-t',
        'nat',
        '-D',
        'ISTIO_OUTPUT',
        '-p',
        'tcp',
        '!',
        '-d',
        '127.0.0.1/32',
        '-m',
        'mark',
        '!',
        '--mark',
        '0x539/0xfff',
        '-j',
        'REDIRECT',
        '--to-ports',
        '15001',
      ]);
    else inNs(ns, 'nft', ['flush', 'chain', 'inet', 'istio-ambient-nat', 'istio-output']);
    inNs(ns, 'ip', ['rule', 'del', 'pref', '32764']);
    const drift = await podRulesDrift(ns, mode, want);
    assert.ok(
      drift.some((d) => /15001|istio-output/.test(d)),
      drift.join('\n'),
    );
    assert.ok(
      drift.some((d) => d.includes('policy routing')),
      drift.join('\n'),
    );
    assert.equal(await applyPodRules(ns, mode, want), true);
    assert.deepEqual(await podRulesDrift(ns, mode, want), []);

    const noDns = { families: [4 as const], dnsCapture: false };
    assert.ok(
      (await podRulesDrift(ns, mode, noDns)).length > 0,
      'DNS rules count as drift once DNS capture is off',
    );
    await applyPodRules(ns, mode, noDns);
    assert.deepEqual(await podRulesDrift(ns, mode, noDns), []);

    await removePodRules(ns, mode);
    const left =
      mode.kind === 'nftables'
        ? inNs(ns, 'nft', ['list', 'ruleset'])
        : inNs(ns, `iptables-${mode.backend}-save`, []);
    assert.doesNotMatch(left, /ISTIO_|istio-ambient/);
    assert.doesNotMatch(inNs(ns, 'ip', ['rule', 'show']), /32764/);
  });
}
