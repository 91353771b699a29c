import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clip } from './clip.js';

test('clip keeps short text and cuts long text, saying how much it left out', () => {
  assert.equal(clip('short', 5), 'short');
  assert.equal(clip('x'.repeat(12), 10), `${'x'.repeat(10)}... (2 more characters)`);
  assert.equal(clip('', 0), '');
});
