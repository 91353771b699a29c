import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  ADDRESS_TYPE_URL,
} from '@trellis/api';
import {
  applyDelta,
  covers,
  NOTHING,
  sameSubscription,
  sotwResourceNames,
  sotwSubscription,
  subscriptionNames,
} from './subscription.js';

test('SotW: an empty name list is a wildcard for LDS/CDS/WDS but nothing for RDS/EDS', () => {
  for (const t of [LISTENER_TYPE_URL, CLUSTER_TYPE_URL, ADDRESS_TYPE_URL]) {
    assert.equal(sotwSubscription(t, []).wildcard, true, t);
  }
  for (const t of [ROUTE_CONFIGURATION_TYPE_URL, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]) {
    const s = sotwSubscription(t, []);
    assert.equal(s.wildcard, false, t);
    assert.equal(covers(s, 'anything'), false);
  }
});

test('SotW: names subscribe to those names; "*" with names is wildcard plus names', () => {
  const named = sotwSubscription(ROUTE_CONFIGURATION_TYPE_URL, ['a', 'b']);
  assert.deepEqual(subscriptionNames(named), ['a', 'b']);
  assert.equal(covers(named, 'a'), true);
  assert.equal(covers(named, 'c'), false);
  const both = sotwSubscription(CLUSTER_TYPE_URL, ['x', '*']);
  assert.deepEqual(subscriptionNames(both), ['*', 'x']);
  assert.equal(covers(both, 'anything'), true);
});

test('delta: legacy wildcard only on the first request of a wildcard-capable type', () => {
  assert.equal(applyDelta(NOTHING, ADDRESS_TYPE_URL, [], [], true).wildcard, true);
  assert.equal(applyDelta(NOTHING, ADDRESS_TYPE_URL, [], [], false).wildcard, false);
  assert.equal(applyDelta(NOTHING, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, [], [], true).wildcard, false);
});

test('delta: subscribe and unsubscribe names and "*" on the fly', () => {
  let s = applyDelta(NOTHING, CLUSTER_TYPE_URL, ['a', 'b'], [], true);
  assert.deepEqual(subscriptionNames(s), ['a', 'b']);
  s = applyDelta(s, CLUSTER_TYPE_URL, ['*', 'c'], ['a'], false);
  assert.deepEqual(subscriptionNames(s), ['*', 'b', 'c']);
  s = applyDelta(s, CLUSTER_TYPE_URL, [], ['*'], false);
  assert.deepEqual(subscriptionNames(s), ['b', 'c']);
  assert.equal(covers(s, 'a'), false);
});

test('sameSubscription compares wildcard and names; sotwResourceNames writes a plain wildcard as []', () => {
  const a = sotwSubscription(CLUSTER_TYPE_URL, ['x', 'y']);
  assert.ok(sameSubscription(a, sotwSubscription(CLUSTER_TYPE_URL, ['y', 'x'])));
  assert.ok(!sameSubscription(a, sotwSubscription(CLUSTER_TYPE_URL, ['x'])));
  assert.deepEqual(sotwResourceNames(CLUSTER_TYPE_URL, sotwSubscription(CLUSTER_TYPE_URL, [])), []);
  const edsAll = applyDelta(NOTHING, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, ['*'], [], false);
  assert.deepEqual(sotwResourceNames(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, edsAll), ['*']);
});
