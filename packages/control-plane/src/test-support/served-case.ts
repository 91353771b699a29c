// Test support: a golden case file (`<dir>/<name>.in.yaml`) as the ServedSnapshot the controllers
// and generators see, with the list its header line names (`# <key>: a; b; ...`).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveMeshState } from '../collections/mesh-state.js';
import { formatProblem, parseSnapshot } from '../ingest/manifests.js';
import type { ServedSnapshot } from '../server/served-snapshot.js';
import { EMPTY_WDS } from '../server/wds-resources.js';
import { withRoutes } from '../translate/envoy/index.js';
import { translateState } from '../translate/index.js';

export function servedCase(
  dir: string,
  name: string,
  headerKey: string,
  now: Date,
): { header: string[]; served: ServedSnapshot } {
  const text = readFileSync(join(dir, `${name}.in.yaml`), 'utf8');
  const header = new RegExp(`^# ${headerKey}: (.+)$`, 'm')
    .exec(text)?.[1]
    ?.split(';')
    .map((s) => s.trim());
  assert.ok(header, `${name}.in.yaml needs a "# ${headerKey}: ..." line`);
  const { snapshot, problems } = parseSnapshot(text, `${name}.in.yaml`);
  assert.deepEqual(problems.map(formatProblem), [], 'the input has invalid documents');
  const state = deriveMeshState(snapshot);
  const served: ServedSnapshot = {
    generation: 1,
    builtAt: now,
    cluster: snapshot,
    state,
    envoy: withRoutes(state, snapshot),
    wds: EMPTY_WDS,
    notes: translateState(state).notes,
    rejected: [],
  };
  return { header, served };
}
