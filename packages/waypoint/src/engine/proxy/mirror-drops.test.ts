import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '@trellis/core';
import { MirrorDrops, mirrorFailureFlag } from './mirror-drops.js';

test('dropped mirrors are counted per cluster and reason; the warning is rate-limited', () => {
  const lines: { level: string; dropped?: number; cluster?: string }[] = [];
  const log = createLogger({
    name: 'mirror-drops-test',
    level: 'debug',
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as never) },
  }).root;
  let now = 0;
  const drops = new MirrorDrops(log, () => now);
  drops.dropped('c"1', 'UH');
  drops.dropped('c"1', 'UH');
  drops.dropped('c"1', 'NC');
  now = 10_000;
  drops.dropped('c"1', 'UH');
  assert.equal(drops.count('c"1', 'UH'), 3);
  assert.equal(drops.count('c"1', 'NC'), 1);
  const warns = lines.filter((l) => l.level === 'warn');
  assert.deepEqual(
    warns.map((w) => w.dropped),
    [1, 1, 2],
    'one warning per cluster and reason per 10 s, with the drops since the last',
  );
  assert.equal(
    drops.text(),
    '# TYPE envoy_cluster_upstream_rq_mirror_dropped counter\n' +
      'envoy_cluster_upstream_rq_mirror_dropped{cluster_name="c\\"1",response_flags="UH"} 3\n' +
      'envoy_cluster_upstream_rq_mirror_dropped{cluster_name="c\\"1",response_flags="NC"} 1\n',
  );
});

test('upstream failures map to Envoy response flags', () => {
  assert.equal(mirrorFailureFlag('connect-failure'), 'UF');
  assert.equal(mirrorFailureFlag('overflow'), 'UO');
  assert.equal(mirrorFailureFlag('timeout'), 'UT');
  assert.equal(mirrorFailureFlag('reset-before-response'), 'UC');
});
