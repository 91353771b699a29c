// Golden files for the translator and controller tests: compare, or rewrite with REFRESH_GOLDEN=1.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

const REFRESH = process.env['REFRESH_GOLDEN'] === '1';

/** The case names of a testdata directory: every `<case>.in.yaml`, sorted. */
export function goldenCaseNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.in.yaml'))
    .map((n) => n.slice(0, -'.in.yaml'.length))
    .sort();
}

/**
 * Asserts that `path` holds `actual`; `undefined` means the file must not exist. With
 * REFRESH_GOLDEN=1 the file is rewritten (or removed) instead.
 */
export function assertGolden(path: string, actual: string | undefined): void {
  const file = basename(path);
  if (REFRESH) {
    if (actual === undefined) rmSync(path, { force: true });
    else writeFileSync(path, actual);
    return;
  }
  if (actual === undefined) {
    assert.ok(
      !existsSync(path),
      `${file} exists but the translation produced nothing for it (run with REFRESH_GOLDEN=1)`,
    );
    return;
  }
  assert.ok(existsSync(path), `${file} is missing (run with REFRESH_GOLDEN=1 to create it)`);
  assert.equal(
    actual,
    readFileSync(path, 'utf8'),
    `${file} differs (run with REFRESH_GOLDEN=1 and review the diff)`,
  );
}
