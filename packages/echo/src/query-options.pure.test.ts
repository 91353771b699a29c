import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerContentType, pickCode, queryOptions, weightedCodes } from './query-options.pure.js';

const q = (s: string) => new URLSearchParams(s);

test('?codes picks by weight, ?headers adds response headers, ?delay waits', () => {
  const o = queryOptions(q('codes=500:1,200:3&headers=X-A:1,X-B:2&delay=150ms'), () => 0.1);
  assert.equal(o.status, 500);
  assert.deepEqual(o.headers, [
    ['X-A', '1'],
    ['X-B', '2'],
  ]);
  assert.equal(o.delayMs, 150);
  assert.deepEqual(o.errors, []);
  assert.equal(queryOptions(q('codes=500:1,200:3'), () => 0.3).status, 200);
  assert.equal(queryOptions(q(''), Math.random).status, 200);
});

test('weights: a bare code weighs 1, a zero weight is never picked', () => {
  assert.deepEqual(weightedCodes('503,200:0'), [
    { code: 503, weight: 1 },
    { code: 200, weight: 0 },
  ]);
  for (const r of [0, 0.5, 0.999])
    assert.equal(
      pickCode(weightedCodes('503,200:0'), () => r),
      503,
    );
});

test('malformed options become error lines (and 400 for codes), as upstream', () => {
  const o = queryOptions(q('codes=99&headers=bad&delay=soon'), Math.random);
  assert.equal(o.status, 400);
  assert.deepEqual(o.errors, [
    'error delaying response error: invalid duration "soon" (want e.g. 5s, 100ms, 1m30s)',
    'response headers error: invalid "bad" (want name:value)',
    'codes error: invalid HTTP response code 99',
  ]);
  assert.match(
    queryOptions(q('codes=200:x'), Math.random).errors[0]!,
    /invalid count "x" in "200:x"/,
  );
  assert.match(queryOptions(q('codes=200:-1'), Math.random).errors[0]!, /invalid count -1/);
  assert.match(
    queryOptions(q('codes=200:0'), Math.random).errors[0]!,
    /every code has a count of 0/,
  );
  assert.match(queryOptions(q('codes=1:2:3'), Math.random).errors[0]!, /want code or code:count/);
});

test("the answer's Content-Type is what Go's servers make of upstream's handler", () => {
  assert.equal(answerContentType(1, q('x=1')), 'application/text');
  assert.equal(answerContentType(1, q('headers=')), 'application/text');
  assert.equal(answerContentType(1, q('headers=X-A:1')), 'text/plain; charset=utf-8');
  assert.equal(answerContentType(2, q('')), 'text/plain; charset=utf-8');
});
