import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLogRequest, tailLines } from './log-query.pure.js';

test('container log requests carry pod, container and the kubectl logs options', () => {
  assert.deepEqual(parseLogRequest('/containerLogs/default/echo-1/echo?follow=true&tailLines=5'), {
    namespace: 'default',
    pod: 'echo-1',
    container: 'echo',
    follow: true,
    previous: false,
    tailLines: 5,
    limitBytes: undefined,
  });
  assert.equal(parseLogRequest('/exec/default/p/c'), undefined);
  assert.equal(parseLogRequest('/containerLogs/default/p')?.pod, undefined);
});

test('tailLines keeps the last n lines', () => {
  assert.equal(tailLines('a\nb\nc\n', 2), 'b\nc\n');
  assert.equal(tailLines('a\nb', 1), 'b');
  assert.equal(tailLines('a\n', 0), '');
  assert.equal(tailLines('a\nb\n', undefined), 'a\nb\n');
});
