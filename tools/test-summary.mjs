#!/usr/bin/env node
// Adds up the node:test results of every package (written by tools/run-tests.mjs) and prints one
// closing summary, so the log of `npm test` ends with the counts for the whole repository.
// Skips are counted from the TAP `# SKIP` directives (a skipped `describe` is one entry, which
// node:test's own `# skipped` count leaves out) and listed by reason, so a run that skipped the
// root-only tests says so.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const totals = { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
const rows = [];
const skipReasons = new Map();
for (const pkg of readdirSync('packages').sort()) {
  const file = join('packages', pkg, '.test-results', 'results.tap');
  if (!existsSync(file)) continue;
  const counts = {};
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^# (tests|pass|fail|skipped|todo|cancelled) (\d+)$/gm)) {
    counts[m[1]] = Number(m[2]);
  }
  const skips = [...text.matchAll(/^\s*ok \d+ - .* # SKIP(?: (.*))?$/gm)];
  counts.skipped = skips.length;
  for (const m of skips) {
    const why = m[1]?.trim() || '(no reason given)';
    skipReasons.set(why, (skipReasons.get(why) ?? 0) + 1);
  }
  for (const k of Object.keys(totals)) totals[k] += counts[k] ?? 0;
  rows.push(
    `  ${pkg.padEnd(14)} tests ${counts.tests ?? 0}, pass ${counts.pass ?? 0}, fail ${counts.fail ?? 0}, skipped ${counts.skipped ?? 0}`,
  );
}
console.log('\nTest summary by package:');
console.log(rows.join('\n'));
console.log(`ℹ tests ${totals.tests}`);
console.log(`ℹ pass ${totals.pass}`);
console.log(`ℹ fail ${totals.fail}`);
console.log(`ℹ cancelled ${totals.cancelled}`);
console.log(`ℹ skipped ${totals.skipped}`);
console.log(`ℹ todo ${totals.todo}`);
for (const [why, n] of [...skipReasons].sort((a, b) => b[1] - a[1]))
  console.log(`  skipped ${n} × ${why}`);
console.log(
  `${totals.pass} passed, ${totals.fail + totals.cancelled} failed, ${totals.skipped} skipped`,
);
process.exit(totals.fail + totals.cancelled > 0 || totals.tests === 0 ? 1 : 0);
