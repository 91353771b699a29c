import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  expandEnvRefs,
  imageEnv,
  imageFiles,
  lookupImage,
  parseImageMap,
  resolveArgv,
} from './images.pure.js';

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

test('${tool:NAME} names the bin dir of a Go tool built from a pinned module', () => {
  const m = parseImageMap('{"dns:1":{"command":["${tool:coredns}/coredns"]}}', 'm');
  assert.deepEqual(resolveArgv(m['dns:1']!, undefined, ['-conf', 'c'], v, {}), [
    '/cache/coredns/bin/coredns',
    '-conf',
    'c',
  ]);
});

test("an image's env and files carry placeholders; files mount read-only at absolute paths", () => {
  const m = parseImageMap(
    JSON.stringify({
      'echo:1': {
        command: ['${tool:echo}/server'],
        env: { PATH: '${tool:echo}:/usr/bin' },
        files: { '/cert.crt': '${repo}/images/cert.crt' },
      },
    }),
    'm',
  );
  assert.deepEqual(imageEnv(m['echo:1'], v), { PATH: '/cache/echo/bin:/usr/bin' });
  assert.deepEqual(imageFiles(m['echo:1'], v), [
    { source: '/repo/images/cert.crt', target: '/cert.crt', readOnly: true },
  ]);
  assert.deepEqual([imageEnv(undefined, v), imageFiles(undefined, v)], [{}, []]);
  assert.throws(
    () => parseImageMap('{"a":{"command":["x"],"files":{"cert.crt":"/c"}}}', 'm.json'),
    /m.json: image "a": file "cert.crt" must be an absolute container path/,
  );
  assert.throws(
    () => parseImageMap('{"a":{"command":["x"],"env":{"N":1}}}', 'm.json'),
    /m.json: image "a": "env" must map names to strings/,
  );
  assert.throws(
    () => parseImageMap('{"a":{"command":["x"],"args":"--y"}}', 'm.json'),
    /m.json: image "a": "args" must be an array of strings/,
  );
});
