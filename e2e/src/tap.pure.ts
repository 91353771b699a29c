// Counts of a node:test TAP report: passed, failed, skipped (with each skip's reason).

export interface TapSummary {
  readonly pass: number;
  readonly fail: number;
  readonly skip: number;
  /** Skip reason -> test names. */
  readonly skipReasons: ReadonlyMap<string, string[]>;
  readonly failed: readonly string[];
}

export function summarizeTap(tap: string): TapSummary {
  let pass = 0;
  let fail = 0;
  let skip = 0;
  const skipReasons = new Map<string, string[]>();
  const failed: string[] = [];
  for (const line of tap.split('\n')) {
    // Top-level results only (subtests are indented).
    const m = /^(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)(?: (.*))?)?$/.exec(line);
    if (!m) continue;
    const [, status, name, directive, reason] = m;
    if (directive === 'SKIP') {
      skip++;
      const why = reason?.trim().replace(/\\#/g, '#') || 'no reason given';
      skipReasons.set(why, [...(skipReasons.get(why) ?? []), name!]);
    } else if (status === 'ok') pass++;
    else {
      fail++;
      failed.push(name!);
    }
  }
  return { pass, fail, skip, skipReasons, failed };
}
