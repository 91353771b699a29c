import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decideWarming,
  DEFAULT_INITIAL_FETCH_TIMEOUT_MS,
  mergeUpdate,
  type WarmingCluster,
  type WarmingView,
} from './warming.pure.js';

function view(
  clusters: Record<string, WarmingCluster>,
  o: { cdsAnswered?: boolean; known?: string[] } = {},
): WarmingView {
  return {
    clusters: new Map(Object.entries(clusters)),
    cdsAnswered: o.cdsAnswered ?? true,
    cdsSince: 0,
    known: (n) => (o.known ?? []).includes(n) || n in clusters,
  };
}

test('an update naming no warming cluster is applied at once', () => {
  assert.deepEqual(decideWarming(['a', 'b'], view({}), 1_000), { apply: true, timedOut: [] });
  assert.deepEqual(
    decideWarming(['a'], view({ z: { edsName: 'z', since: 0, timeoutMs: 100 } }), 50),
    { apply: true, timedOut: [] },
    'a warming cluster the update does not name holds nothing',
  );
});

test('an update naming warming clusters is held until the earliest of their timeouts', () => {
  const v = view({
    m1: { edsName: 'm1', since: 1_000, timeoutMs: 15_000 },
    m2: { edsName: 'm2', since: 2_000, timeoutMs: 500 },
  });
  assert.deepEqual(decideWarming(['a', 'm2', 'm1'], v, 2_100), {
    apply: false,
    waitingFor: ['m1', 'm2'],
    until: 2_500,
  });
  assert.deepEqual(decideWarming(['a', 'm2', 'm1'], v, 2_500), {
    apply: false,
    waitingFor: ['m1'],
    until: 16_000,
  });
  assert.deepEqual(
    decideWarming(['a', 'm2', 'm1'], v, 16_000),
    { apply: true, timedOut: ['m2', 'm1'] },
    'past every timeout the update is applied as is, never held forever',
  );
});

test('before the first CDS answer an unknown cluster counts as warming, after it not', () => {
  const early = view({}, { cdsAnswered: false, known: ['a'] });
  assert.deepEqual(decideWarming(['a', 'x'], early, 10), {
    apply: false,
    waitingFor: ['x'],
    until: DEFAULT_INITIAL_FETCH_TIMEOUT_MS,
  });
  assert.deepEqual(decideWarming(['a', 'x'], view({}, { known: ['a'] }), 10), {
    apply: true,
    timedOut: [],
  });
});

test('a newer update folds into a held one, the newer winning per name', () => {
  let p = mergeUpdate(undefined, new Map([['r1', 1]]), ['r2']);
  p = mergeUpdate(p, new Map([['r2', 2]]), ['r1']);
  assert.deepEqual([...p.updated], [['r2', 2]]);
  assert.deepEqual([...p.removed], ['r1']);
});
