// Envoy's URI template syntax and matching: what a template matches, and the templates Envoy
// refuses, each with the reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileUriTemplate, matchesUriTemplate } from './uri-template.pure.js';

function compiled(template: string): RegExp {
  const re = compileUriTemplate(template);
  assert.ok(re instanceof RegExp, `${template}: ${String(re)}`);
  return re;
}

test('* is one non-empty segment, ** any rest (slashes too), literals are literal', () => {
  const cases: [string, string[], string[]][] = [
    [
      '/api/*/admin',
      ['/api/v1/admin', "/api/a.b~c%20-_!$&'()+,;:@=/admin"],
      ['/api//admin', '/api/a/b/admin', '/api/v1/admin/'],
    ],
    ['/files/**', ['/files/', '/files/a', '/files/a/b/c.txt'], ['/files', '/filesx/a']],
    ['/**.mpd', ['/a/b/manifest.mpd', '/.mpd'], ['/a/b/manifest.mp4', '/a/bxmpd']],
    ['/*.m4s', ['/seg1.m4s'], ['/a/seg1.m4s', '/.m4s']],
    ['/v1.0/(x)+$', ['/v1.0/(x)+$'], ['/v1x0/(x)+$', '/v1.0/xx$']],
    ['/**', ['/', '/anything/at/all'], []],
    ['/', ['/'], ['/a']],
  ];
  for (const [template, yes, no] of cases) {
    const re = compiled(template);
    for (const p of yes) assert.ok(matchesUriTemplate(re, p), `${template} should match ${p}`);
    for (const p of no) assert.ok(!matchesUriTemplate(re, p), `${template} should not match ${p}`);
  }
});

test('the query and the fragment are not part of the match', () => {
  const re = compiled('/api/*');
  assert.ok(matchesUriTemplate(re, '/api/x?y=/z/w'));
  assert.ok(matchesUriTemplate(re, '/api/x#a/b'));
  assert.ok(!matchesUriTemplate(re, '/api/x/y?z'));
});

test('templates Envoy refuses are refused with the reason', () => {
  const cases: [string, RegExp][] = [
    ['api/*', /must start with \//],
    ['/a b', /printable ASCII without spaces/],
    ['/a//b', /empty segment/],
    ['/a/**/*', /no glob may follow \*\*/],
    ['/a/**/b/**', /no glob may follow \*\*/],
    ['/a/{id}', /variables \(\{name\}\) are not supported/],
    ['/a*', /"a\*" is not a valid path literal/],
    ['/a/b[1]', /"b\[1\]" is not a valid path literal/],
  ];
  for (const [template, reason] of cases) {
    const r = compileUriTemplate(template);
    assert.equal(typeof r, 'string', template);
    assert.match(r as string, reason, template);
  }
  assert.ok(compiled('/**/x') instanceof RegExp, 'a literal may follow **');
});
