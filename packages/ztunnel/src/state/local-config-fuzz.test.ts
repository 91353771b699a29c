// Property tests (fast-check, fixed seed, bounded runs) of --local-config parsing: any text, and
// examples/local.yaml with one field anywhere replaced by a value of another type (or removed, or
// an unknown field added), is either loaded or refused with a LocalConfigError whose problems each
// name a place and stay short; nothing else is ever thrown. A file over the size limit is refused
// before it is read, and a refused reload keeps what the store held.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { LocalConfigError, parseLocalConfig } from './local-config.js';
import { LocalConfigFile, MAX_LOCAL_CONFIG_BYTES } from './local-config-file.js';
import { StateStore } from './store.js';

const EXAMPLE = readFileSync(new URL('../../examples/local.yaml', import.meta.url), 'utf8');
const DOC = parse(EXAMPLE) as unknown;

/** Every path to a value in `doc` (objects by key, lists by index). */
function paths(doc: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [at];
  if (Array.isArray(doc)) doc.forEach((v, i) => out.push(...paths(v, [...at, i])));
  else if (doc !== null && typeof doc === 'object')
    for (const [k, v] of Object.entries(doc)) out.push(...paths(v, [...at, k]));
  return out;
}
const PATHS = paths(DOC).filter((p) => p.length > 0);

type Edit =
  | { kind: 'set'; path: (string | number)[]; value: unknown }
  | { kind: 'delete'; path: (string | number)[] }
  | { kind: 'add'; path: (string | number)[]; key: string; value: unknown };

function applied(edit: Edit): unknown {
  const doc = structuredClone(DOC) as Record<string | number, unknown>;
  const parent = edit.path
    .slice(0, -1)
    .reduce<Record<string | number, unknown>>(
      (o, k) => o[k] as Record<string | number, unknown>,
      doc,
    );
  const last = edit.path.at(-1)!;
  if (edit.kind === 'set') parent[last] = edit.value;
  else if (edit.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else {
    const target = parent[last];
    if (target !== null && typeof target === 'object' && !Array.isArray(target))
      (target as Record<string, unknown>)[edit.key] = edit.value;
  }
  return doc;
}

const value = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    '',
    '10.0.0.1',
    'fd00::1',
    '10.0.0.0/8',
    'default/x',
    'x'.repeat(5000),
    -1,
    70000,
  ),
);
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), path: fc.constantFrom(...PATHS), value }),
  fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...PATHS) }),
  fc.record({
    kind: fc.constant('add' as const),
    path: fc.constantFrom(...PATHS),
    key: fc.string({ maxLength: 300 }),
    value,
  }),
);

function check(text: string): void {
  try {
    parseLocalConfig(text, 'fuzz.yaml');
  } catch (err) {
    assert.ok(err instanceof LocalConfigError, `not a LocalConfigError: ${String(err)}`);
    assert.ok(err.problems.length > 0);
    for (const p of err.problems) assert.ok(p.length > 0 && p.length < 600, p.slice(0, 700));
  }
}

test('property: any text is loaded or refused with LocalConfigErrors naming what is wrong', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.string().map((s) => `workloads:\n  - ${s}\n`),
        fc.jsonValue().map((v) => stringify(v)),
        fc.constant(
          'a: &a [1,2]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
        ),
      ),
      check,
    ),
    { seed: 13, numRuns: 500 },
  );
});

test('property: examples/local.yaml with one field of another type, gone or added is loaded or refused clearly', () => {
  fc.assert(
    fc.property(edit, (e) => check(stringify(applied(e)))),
    { seed: 13, numRuns: 500 },
  );
});

test('a file over the size limit is refused before it is read; the store keeps what it held', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ztunnel-local-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'local.yaml');
  writeFileSync(path, EXAMPLE);
  const store = new StateStore();
  const file = new LocalConfigFile(path, store);
  await file.load();
  const held = store.dump();
  truncateSync(path, MAX_LOCAL_CONFIG_BYTES + 1); // sparse: no 32 MiB written
  await assert.rejects(file.load(), (err: LocalConfigError) =>
    err.problems.some((p) => p.includes(`at most ${MAX_LOCAL_CONFIG_BYTES} are read`)),
  );
  assert.deepEqual(store.dump(), held);
});
