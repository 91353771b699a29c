import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inpodIptablesRules } from './inpod-iptables.js';
import { OUTPUT_CHAIN, PREROUTING_CHAIN } from './inpod-iptables.js';
import {
  iptablesDrift,
  parseIptables,
  planIptablesRemoval,
  planIptablesRestore,
} from './iptables-state.js';

const OURS = [PREROUTING_CHAIN, OUTPUT_CHAIN];
const wanted = inpodIptablesRules({ family: 4, dnsCapture: true });

/** What iptables-save prints after `wanted` was restored into an empty netns (chains grouped, other built-ins listed). */
function saved(text: string, extra: Record<string, string[]> = {}): string {
  const out: string[] = [];
  for (const [table, chains] of parseIptables(text)) {
    out.push(`*${table}`);
    for (const c of ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'])
      out.push(`:${c} ACCEPT [0:0]`);
    for (const c of chains.keys()) if (OURS.includes(c)) out.push(`:${c} - [0:0]`);
    for (const rules of chains.values()) out.push(...rules);
    out.push(...(extra[table] ?? []), 'COMMIT');
  }
  return out.join('\n') + '\n';
}

test('an empty netns gets everything; one with the rules in place gets nothing', () => {
  const plan = planIptablesRestore(wanted, '', OURS);
  assert.deepEqual(parseIptables(plan), parseIptables(wanted));
  assert.equal(planIptablesRestore(wanted, saved(wanted), OURS), '');
  assert.deepEqual(iptablesDrift(wanted, saved(wanted), OURS), []);
});

test('a changed chain is flushed and refilled; a duplicated jump is deleted, a missing one added', () => {
  const current = saved(wanted, { nat: ['-A OUTPUT -j ISTIO_OUTPUT'] }).replace(
    /^-A ISTIO_OUTPUT .*--to-ports 15001\n/m,
    '',
  );
  const plan = planIptablesRestore(wanted, current, OURS);
  assert.match(plan, /^\*nat\n:ISTIO_OUTPUT - \[0:0\]\n/m);
  assert.match(plan, /^-D OUTPUT -j ISTIO_OUTPUT$/m);
  assert.doesNotMatch(plan, /\*mangle|\*raw/, 'untouched tables stay out of the plan');
  const drift = iptablesDrift(wanted, current, OURS);
  assert.ok(
    drift.some((d) => d.includes("missing rule '-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -p tcp")),
  );
  assert.ok(drift.some((d) => d === "nat: '-A OUTPUT -j ISTIO_OUTPUT' appears 2 times, want once"));
});

test('turning DNS capture off removes the raw table chains and the 53 redirects', () => {
  const plain = inpodIptablesRules({ family: 4 });
  const plan = planIptablesRestore(plain, saved(wanted), OURS);
  assert.match(
    plan,
    /\*raw\n-D PREROUTING -j ISTIO_PRERT\n-D OUTPUT -j ISTIO_OUTPUT\n-F ISTIO_PRERT\n-F ISTIO_OUTPUT\n-X ISTIO_PRERT\n-X ISTIO_OUTPUT\nCOMMIT/,
  );
  assert.ok(iptablesDrift(plain, saved(wanted), OURS).includes('raw: leftover chain ISTIO_PRERT'));
});

test('removal deletes jumps, then flushes and deletes our chains, and leaves other rules alone', () => {
  const current = saved(wanted, { nat: ['-A OUTPUT -p tcp -j ACCEPT'] });
  const removal = planIptablesRemoval(current, OURS);
  assert.doesNotMatch(removal, /-p tcp -j ACCEPT/);
  assert.equal((removal.match(/^-X /gm) ?? []).length, 6);
  assert.equal(
    planIptablesRemoval(
      saved(inpodIptablesRules({ family: 4 })).replace(/ISTIO_\w+/g, 'OTHER'),
      OURS,
    ),
    '',
  );
});

test('malformed iptables text is refused with the line', () => {
  assert.throws(
    () => parseIptables('-A OUTPUT -j X\n'),
    /'-A OUTPUT -j X' comes before any \*table line/,
  );
});
