#!/usr/bin/env node
// Adds up the node:test results of every package (written by tools/run-tests.mjs) and prints one
// closing summary, so the log of `npm test` ends with the counts for the whole repository (the
// end-to-end suites included).
// Skips are counted from the TAP `# SKIP` directives (a skipped `describe` is one entry, which
// node:test's own `# skipped` count leaves out) and listed by reason, so a run that skipped the
// root-only tests says so. Failed tests are listed last with the first lines of their error, so
// the tail of a failed CI log says which test failed and why.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const totals = { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
const rows = [];
const skipReasons = new Map();
const failures = [];
// Every package, the e2e runner's own tests, then the end-to-end suites (e2e/src/run.ts writes the
// TAP of all its scenarios to scenarios.tap).
const results = [
  ...readdirSync('packages')
    .sort()
    .map((p) => [p, join('packages', p, '.test-results', 'results.tap')]),
  ['e2e', join('e2e', '.test-results', 'results.tap')],
  ['e2e suites', join('e2e', '.test-results', 'scenarios.tap')],
];
for (const [pkg, file] of results) {
  if (!existsSync(file)) continue;
  const counts = {};
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^# (tests|pass|fail|skipped|todo|cancelled) (\d+)$/gm)) {
    counts[m[1]] = (counts[m[1]] ?? 0) + Number(m[2]); // summed: e2e suites hold several runs
  }
  const skips = [...text.matchAll(/^\s*ok \d+ - .* # SKIP(?: (.*))?$/gm)];
  counts.skipped = skips.length;
  for (const m of skips) {
    const why = m[1]?.trim() || '(no reason given)';
    skipReasons.set(why, (skipReasons.get(why) ?? 0) + 1);
  }
  for (const k of Object.keys(totals)) totals[k] += counts[k] ?? 0;
  failures.push(...failedTests(text).map((f) => ({ pkg, ...f })));
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
if (failures.length) console.log('\nFailed:');
for (const f of failures) {
  console.log(`  ✖ ${f.pkg}: ${f.name}`);
  for (const line of f.error) console.log(`      ${line}`);
}
console.log(
  `${totals.pass} passed, ${totals.fail + totals.cancelled} failed, ${totals.skipped} skipped`,
);
process.exit(totals.fail + totals.cancelled > 0 || totals.tests === 0 ? 1 : 0);

/**
 * The failed tests of a TAP file (node:test's reporter): the innermost ones (a parent failing only
 * because a subtest did is left out), each with the first lines of its error
 * and where it failed.
 */
function failedTests(tap) {
  const lines = tap.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*?)(?: # .*)?$/.exec(lines[i]);
    if (!m) continue;
    const indent = m[1].length;
    const block = [];
    if (lines[i + 1]?.trim() === '---') {
      for (let j = i + 2; j < lines.length && lines[j].trim() !== '...'; j++) block.push(lines[j]);
    }
    // A parent failing because a subtest did, or a test cancelled with its parent: the cause is
    // listed on its own.
    if (block.some((l) => /failureType: '(subtestsFailed|cancelledByParent)'/.test(l))) continue;
    const at = block.findIndex((l) => /^\s*error: /.test(l));
    const error = [];
    if (at >= 0) {
      const first = block[at].replace(/^\s*error: /, '');
      if (/^[|>]-?$/.test(first)) {
        for (let j = at + 1; j < block.length && block[j].startsWith(' '.repeat(indent + 4)); j++)
          error.push(block[j].trim());
      } else error.push(first.replace(/^'(.*)'$/, '$1'));
    }
    const where = block
      .find((l) => /^\s*location: /.test(l))
      ?.replace(/^\s*location: '?(.*?)'?$/, '$1');
    const shown = error.filter((l) => /[\w]/.test(l)).slice(0, 10);
    out.push({ name: m[2], error: where ? [...shown, `at ${where}`] : shown });
  }
  return out;
}
