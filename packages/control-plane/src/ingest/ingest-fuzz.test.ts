// Fuzz tests of the config-dir ingest (fast-check, a fixed seed and a bounded number of runs; a
// failure prints the seed and the shrunk counterexample; FUZZ_SEED and FUZZ_RUNS override them):
// - every kind the control plane reads, with one field replaced by an arbitrary JSON value (of any
//   type): ingest either admits the object or reports it, naming its document, and nothing
//   downstream (derivation, WDS and Envoy translation, status, configz) throws on what it admits;
// - arbitrary and corrupted YAML text: parsing never throws, every document is accounted for.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { runAllStages } from '../test-support/all-stages.js';
import { CONVERTERS } from './convert/admit.js';
import { formatProblem, parseManifests, snapshotFromObjects } from './manifests.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261101);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 40);
const TESTDATA = fileURLToPath(new URL('../../testdata/', import.meta.url));
const KINDS = Object.values(CONVERTERS).map((c) => c.kind);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The raw documents of every input case under testdata (one list per case). */
function seedCases(): Json[][] {
  const files = ['', 'envoy', 'routes', 'gateway', 'fuzz'].flatMap((d) =>
    readdirSync(join(TESTDATA, d))
      .filter((n) => n.endsWith('.in.yaml') || (d === 'fuzz' && n.endsWith('.yaml')))
      .map((n) => join(TESTDATA, d, n)),
  );
  return files.map((f) =>
    parseAllDocuments(readFileSync(f, 'utf8'))
      .map((d) => d.toJS() as Json)
      .filter((d) => d !== null && typeof d === 'object'),
  );
}
const CASES = seedCases();

/** Every path to a value inside `v` (object keys and list indexes), the root excluded. */
function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [];
  const entries: [string | number, Json][] = Array.isArray(v)
    ? v.map((x, i) => [i, x])
    : Object.entries(v);
  return entries.flatMap(([k, x]) => [[...prefix, k], ...paths(x, [...prefix, k])]);
}

function replaced(v: Json, path: (string | number)[], value: Json): Json {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, Json>;
  copy[head!] = replaced(copy[head!]!, rest, value);
  return copy as Json;
}

/** A case with one document of `kind`, and the list of its mutable paths. */
const targets = (kind: string) =>
  CASES.flatMap((docs, c) =>
    docs.flatMap((d, i) =>
      (d as { kind?: unknown }).kind === kind
        ? [{ c, i, paths: paths(d).filter((p) => p[0] !== 'apiVersion' && p[0] !== 'kind') }]
        : [],
    ),
  ).filter((t) => t.paths.length > 0);

/** Any JSON value, weighted towards the types a field of the wrong type usually has. */
const anyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', 'None', '999.1.2.3', '::ffff:10.0.0.1', '-1', 'STRICT', 'All', '/', '*'),
  fc.integer({ min: -70000, max: 70000 }),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

function ingest(docs: Json[]) {
  const text = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs });
  const parsed = parseManifests(text, 'fuzz.json');
  const built = snapshotFromObjects(parsed.objects);
  return { parsed, built };
}

test('the fuzz seeds hold every kind the control plane reads', () => {
  for (const kind of KINDS) assert.ok(targets(kind).length > 0, `no ${kind} in the seeds`);
  for (const docs of CASES) {
    const { parsed } = ingest(docs);
    assert.deepEqual(parsed.problems.map(formatProblem), [], 'the seeds are valid');
  }
});

for (const kind of KINDS) {
  test(`fuzz ${kind}: a field of any type is admitted or reported, and nothing derived from it throws`, () => {
    const candidates = targets(kind);
    fc.assert(
      fc.property(
        fc.nat({ max: candidates.length - 1 }).chain((t) =>
          fc.record({
            t: fc.constant(t),
            path: fc.constantFrom(...candidates[t]!.paths),
            value: anyValue,
          }),
        ),
        ({ t, path, value }) => {
          const { c, i } = candidates[t]!;
          const docs = CASES[c]!.map((d, j) => (j === i ? replaced(d, path, value) : d));
          const before = ingest(CASES[c]!).built.snapshot;
          const { parsed, built } = ingest(docs);
          // Each item is an object, a problem or an ignored kind, and a problem names the item.
          assert.equal(
            parsed.objects.length + parsed.problems.length + parsed.ignored.length,
            docs.length,
          );
          for (const p of parsed.problems) {
            assert.equal(p.file, 'fuzz.json');
            assert.match(p.message, /^items\[\d+\]: /);
          }
          runAllStages(built.snapshot, before);
        },
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: false },
    );
  });
}

/** YAML-ish text: pieces of manifests, anchors and aliases, flow and block syntax, and noise. */
const yamlText = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '---\n',
        'apiVersion: v1\n',
        'kind: Pod\n',
        'kind: Service\n',
        'kind: List\nitems:\n',
        'metadata:\n  name: x\n  namespace: y\n',
        'metadata: { name: a, labels: { app: 1 } }\n',
        'spec:\n  ports: [{ port: 80 }]\n',
        'status: { podIP: 10.0.0.1, podIPs: oops }\n',
        '  - ',
        '- &a [1, 2]\n',
        'b: [*a, *a, *a]\n',
        '*a\n',
        '!!binary aGk=\n',
        '{ [',
        ']}',
        ': ',
        '"\\u0000"',
        "'",
        '\t',
        '%YAML 1.2\n',
        '... \n',
      ),
      fc.string({ maxLength: 20 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

test('fuzz YAML: parsing arbitrary text never throws and accounts for every document', () => {
  fc.assert(
    fc.property(yamlText, (text) => {
      const parsed = parseManifests(text, 'fuzz.yaml');
      for (const p of parsed.problems) {
        assert.equal(p.file, 'fuzz.yaml');
        assert.ok(p.document >= 0 && p.message.length > 0);
      }
      runAllStages(snapshotFromObjects(parsed.objects).snapshot);
    }),
    { seed: SEED, numRuns: RUNS * 10 },
  );
});

test('fuzz YAML: a corrupted valid manifest never throws', () => {
  const texts = CASES.map((docs) => docs.map((d) => JSON.stringify(d)).join('\n---\n'));
  fc.assert(
    fc.property(
      fc.nat({ max: texts.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 5 }),
      (c, edits) => {
        let text = texts[c]!;
        for (const [at, s] of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + s + text.slice(i + s.length);
        }
        const parsed = parseManifests(text, 'fuzz.yaml');
        runAllStages(snapshotFromObjects(parsed.objects).snapshot);
      },
    ),
    { seed: SEED, numRuns: RUNS * 5 },
  );
});
