#!/usr/bin/env node
// Adds up the node:test results of every package (written by tools/run-tests.mjs) and prints one
// closing summary, so the log of `npm test` ends with the counts for the whole repository.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const totals = { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
const rows = [];
for (const pkg of readdirSync('packages').sort()) {
  const file = join('packages', pkg, '.test-results', 'results.tap');
  if (!existsSync(file)) continue;
  const counts = {};
  for (const m of readFileSync(file, 'utf8').matchAll(
    /^# (tests|pass|fail|skipped|todo|cancelled) (\d+)$/gm,
  )) {
    counts[m[1]] = Number(m[2]);
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
console.log(
  `${totals.pass} passed, ${totals.fail + totals.cancelled} failed, ${totals.skipped} skipped`,
);
process.exit(totals.fail + totals.cancelled > 0 || totals.tests === 0 ? 1 : 0);
