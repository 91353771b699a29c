// The one way to gate tests that need root (network namespaces, iptables, mounts): pass
// `rootOnly(why)` as the options of `test` or `describe`. Without root the test is reported as
// skipped with the reason, and a `describe`'s hooks do not run, so set-up that needs root goes in
// the suite's `before`, never in a file-level hook.

/** True when the process may create namespaces, bridges and mounts. */
export const isRoot = process.getuid?.() === 0;

/** Test options that skip with "needs root: <why>" unless running as root. */
export function rootOnly(why: string): { skip: string | false } {
  return { skip: isRoot ? false : `needs root: ${why}` };
}
