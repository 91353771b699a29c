import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandEnvRefs, lookupImage, parseImageMap, resolveArgv } from './images.pure.js';

const map = parseImageMap(
  '{"trellis/echo:dev":{"command":["${node}","${repo}/echo.js"],"args":["--x"]},"busybox:latest":{"command":["sh"]}}',
  'm',
);
const v = { repo: '/repo', node: '/usr/bin/node', tool: (n: string) => `/cache/${n}/bin` };

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

test('$(VAR) expansion follows Kubernetes: $$ escapes, unknown stays', () => {
  assert.equal(expandEnvRefs('$(A)-$$(A)-$(B)', { A: '1' }), '1-$(A)-$(B)');
});

test('${tool:NAME} names the bin dir of a Go tool built from a pinned module', () => {
  const m = parseImageMap('{"dns:1":{"command":["${tool:coredns}/coredns"]}}', 'm');
  assert.deepEqual(resolveArgv(m['dns:1']!, undefined, ['-conf', 'c'], v, {}), [
    '/cache/coredns/bin/coredns',
    '-conf',
    'c',
  ]);
});
