import { test } from 'node:test';
import assert from 'node:assert/strict';
import { divideQuantity, parseQuantity } from './quantity.pure.js';

test('quantities in every suffix', () => {
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('2'), 2);
  assert.equal(parseQuantity('1.5'), 1.5);
  assert.equal(parseQuantity('256Mi'), 256 * 2 ** 20);
  assert.equal(parseQuantity('1G'), 1e9);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.equal(parseQuantity('4Gi'), 4 * 2 ** 30);
});

test('what is not a quantity is refused with its text', () => {
  for (const bad of ['', 'two', '5mb', '1.2.3', 'Mi'])
    assert.throws(() => parseQuantity(bad), new RegExp(`"${bad}" is not a Kubernetes quantity`));
});

test("resourceFieldRef's value: the quantity over the divisor, rounded up (as the kubelet's)", () => {
  assert.equal(divideQuantity('500m'), '1');
  assert.equal(divideQuantity('2'), '2');
  assert.equal(divideQuantity('2500m'), '3');
  assert.equal(divideQuantity('300m', '1m'), '300');
  assert.equal(divideQuantity('256Mi', '1Mi'), '256');
  assert.equal(divideQuantity('1Gi', '1M'), '1074');
  // The API server stores a left-out divisor as "0": the kubelet takes it as 1.
  assert.equal(divideQuantity('500m', '0'), '1');
  assert.throws(() => divideQuantity('1', '-1'), /divisor "-1" must not be negative/);
});
