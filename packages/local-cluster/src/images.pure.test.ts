import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandEnvRefs, lookupImage, parseImageMap, resolveArgv } from './images.pure.js';

const map = parseImageMap(
  '{"trellis/echo:dev":{"command":["${node}","${repo}/echo.js"],"args":["--x"]},"busybox:latest":{"command":["sh"]}}',
  'm',
);
const v = { repo: '/repo', node: '/usr/bin/node' };

test('the image entrypoint runs unless the pod sets command; pod args replace image args', () => {
  assert.deepEqual(resolveArgv(map['trellis/echo:dev']!, undefined, undefined, v, {}), [
    '/usr/bin/node',
    '/repo/echo.js',
    '--x',
  ]);
  assert.deepEqual(resolveArgv(map['trellis/echo:dev']!, undefined, ['--y'], v, {}), [
    '/usr/bin/node',
    '/repo/echo.js',
    '--y',
  ]);
  assert.deepEqual(resolveArgv(map['trellis/echo:dev']!, ['sleep'], ['$(T)'], v, { T: '5' }), [
    'sleep',
    '5',
  ]);
});

test('tag-less images match :latest; unknown images are not found; bad maps are rejected', () => {
  assert.deepEqual(lookupImage(map, 'busybox')?.command, ['sh']);
  assert.equal(lookupImage(map, 'nginx:1'), undefined);
  assert.throws(
    () => parseImageMap('{"a":{"command":[]}}', 'm.json'),
    /m.json: image "a" needs a non-empty "command"/,
  );
});

test('an entry <name>:* matches every tag of that image, after an exact entry', () => {
  const m = parseImageMap(
    '{"trellis/ztunnel:*":{"command":["any"]},"trellis/ztunnel:1.0":{"command":["exact"]}}',
    'm',
  );
  assert.deepEqual(lookupImage(m, 'trellis/ztunnel:0.1.0')?.command, ['any']);
  assert.deepEqual(lookupImage(m, 'trellis/ztunnel')?.command, ['any']);
  assert.deepEqual(lookupImage(m, 'trellis/ztunnel:1.0')?.command, ['exact']);
  assert.equal(lookupImage(m, 'other/ztunnel:0.1.0'), undefined);
  assert.equal(lookupImage(m, 'registry:5000/trellis/ztunnel:0.1.0'), undefined);
});

test('$(VAR) expansion follows Kubernetes: $$ escapes, unknown stays', () => {
  assert.equal(expandEnvRefs('$(A)-$$(A)-$(B)', { A: '1' }), '1-$(A)-$(B)');
});
