// The pipeline's incremental stages chained as the pipeline runs them (derivation, translation,
// packing) give, after every random change, the same resources as translating and packing a full
// derivation from scratch: same names in the same order, same bytes and versions, same notes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL } from '@trellis/api';
import { createMeshStateDeriver } from '../collections/incremental-mesh-state.js';
import { deriveMeshState } from '../collections/mesh-state.js';
import type { ClusterSnapshot } from '../model/kube.js';
import { mutate, rng, startingSnapshot } from '../test-support/random-cluster.js';
import { createStateTranslator, translateState } from '../translate/index.js';
import { changedWdsTypes, packWds, type PackedWds } from './wds-resources.js';

const wire = (packed: PackedWds, type: string) =>
  [...packed.get(type)!].map(([name, r]) => [
    name,
    r.version,
    Buffer.from(r.resource.value).toString('base64'),
  ]);

test('incremental derive -> translate -> pack equals a full recompute after every random change', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = rng(seed);
    const deriver = createMeshStateDeriver();
    const translator = createStateTranslator();
    let packed: PackedWds | undefined;
    let s: ClusterSnapshot = startingSnapshot(r);
    for (let step = 0; step < 100; step++) {
      s = mutate(s, r);
      const where = `seed ${seed}, step ${step}`;
      const translated = translator.translate(deriver.derive(s));
      const before = packed;
      packed = packWds(translated, before);
      const full = translateState(deriveMeshState(s));
      const fresh = packWds(full);
      assert.deepEqual(translated.notes, full.notes, where);
      for (const type of [ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL])
        assert.deepEqual(wire(packed, type), wire(fresh, type), `${where}, ${type}`);
      // The changed types are exactly those whose served resources differ.
      if (before) {
        const differs = [ADDRESS_TYPE_URL, AUTHORIZATION_TYPE_URL].filter(
          (t) => JSON.stringify(wire(before, t)) !== JSON.stringify(wire(packed!, t)),
        );
        assert.deepEqual(changedWdsTypes(before, packed), differs, where);
      }
    }
  }
});
