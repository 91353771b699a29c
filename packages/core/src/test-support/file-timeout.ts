// The per-file override of the default per-test timeout that tools/test-timeout.mjs gives every
// test and hook (120 s unless TRELLIS_TEST_TIMEOUT_MS says otherwise). Call it at the top of a
// file, before its tests are declared; a `{ timeout }` on a test, hook or describe still wins.
export function fileTimeout(ms: number): void {
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`fileTimeout: ${ms} is not a duration`);
  (globalThis as Record<symbol, unknown>)[Symbol.for('trellis.test.fileTimeoutMs')] = ms;
}
