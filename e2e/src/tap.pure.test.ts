import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeTap } from './tap.pure.js';

test('counts top-level results and groups skips by reason (TAP escapes # in reasons)', () => {
  const tap = `TAP version 13
# Subtest: a
ok 1 - a
  ---
  duration_ms: 1
  ...
# Subtest: b
not ok 2 - b
  ---
  ...
ok 3 - c # SKIP pending: waits for the CNI agent (issue \\#12)
ok 4 - d # SKIP pending: waits for the CNI agent (issue \\#12)
ok 5 - e # TODO later
    ok 1 - nested is not counted
1..5
`;
  const s = summarizeTap(tap);
  assert.deepEqual([s.pass, s.fail, s.skip], [2, 1, 2]);
  assert.deepEqual(s.failed, ['b']);
  assert.deepEqual(
    [...s.skipReasons],
    [['pending: waits for the CNI agent (issue #12)', ['c', 'd']]],
  );
});
