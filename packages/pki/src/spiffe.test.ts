import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatSpiffeId,
  parseSpiffeId,
  parseSpiffeUri,
  parseSvidSpiffeId,
  parseTrustDomain,
  SpiffeIdError,
} from './spiffe.js';

describe('parseSpiffeId (workload form)', () => {
  it('splits a workload identity into trust domain, namespace and service account', () => {
    assert.deepEqual(parseSpiffeId('spiffe://cluster.local/ns/default/sa/bookinfo-productpage'), {
      trustDomain: 'cluster.local',
      namespace: 'default',
      serviceAccount: 'bookinfo-productpage',
    });
    assert.equal(
      parseSpiffeId('spiffe://td/ns/a/sa/svc.account.with.dots').serviceAccount,
      'svc.account.with.dots',
    );
  });

  const rejected: Array<[string, RegExp]> = [
    ['', /is empty/],
    ['http://cluster.local/ns/a/sa/b', /must start with 'spiffe:\/\/'/],
    ['SPIFFE://cluster.local/ns/a/sa/b', /scheme must be lowercase/],
    ['spiffe:///ns/a/sa/b', /trust domain is missing/],
    ['spiffe://Cluster.local/ns/a/sa/b', /trust domain "Cluster.local" must be lowercase/],
    ['spiffe://cluster.local:8080/ns/a/sa/b', /must not contain a port/],
    ['spiffe://user@cluster.local/ns/a/sa/b', /must not contain userinfo/],
    ['spiffe://clus ter/ns/a/sa/b', /trust domain "clus ter" contains " "/],
    ['spiffe://cluster.local/ns/a/sa/b?x=1', /must not contain a query/],
    ['spiffe://cluster.local/ns/a/sa/b#frag', /must not contain a fragment/],
    ['spiffe://cluster.local/ns/a/sa/b/', /path must not end with '\/'/],
    ['spiffe://cluster.local/ns//sa/b', /empty segments/],
    ['spiffe://cluster.local/ns/./sa/b', /'.' or '..' segments/],
    ['spiffe://cluster.local/ns/../sa/b', /'.' or '..' segments/],
    ['spiffe://cluster.local/ns/a%20b/sa/b', /path segment "a%20b" contains "%"/],
    ['spiffe://cluster.local', /not of the form \/ns\/<namespace>\/sa\/<service-account>/],
    ['spiffe://cluster.local/ns/a/sa', /not of the form/],
    ['spiffe://cluster.local/ns/a/sa/b/extra', /not of the form/],
    ['spiffe://cluster.local/sa/b/ns/a', /not of the form/],
    [
      'spiffe://cluster.local/ns/Default/sa/b',
      /namespace "Default" must consist of lowercase letters/,
    ],
    ['spiffe://cluster.local/ns/-a/sa/b', /namespace "-a" must consist of lowercase/],
    [
      `spiffe://cluster.local/ns/${'a'.repeat(64)}/sa/b`,
      /namespace "a{64}" is 64 characters long, the limit is 63/,
    ],
    ['spiffe://cluster.local/ns/a/sa/web.', /service account "web." must consist of lowercase/],
    ['spiffe://cluster.local/ns/a/sa/We_b', /service account "We_b" must consist of lowercase/],
  ];
  for (const [input, message] of rejected) {
    it(`rejects ${JSON.stringify(input.slice(0, 60))} saying ${message.source}`, () => {
      assert.throws(
        () => parseSpiffeId(input),
        (err: unknown) => {
          assert.ok(err instanceof SpiffeIdError);
          assert.match(err.message, message);
          assert.ok(err.message.startsWith('invalid SPIFFE ID '), err.message);
          return true;
        },
      );
    });
  }

  it('gives the same frozen answer for an ID parsed again, and still refuses a bad one every time', () => {
    const id = 'spiffe://cluster.local/ns/shop/sa/cart';
    const first = parseSpiffeId(id);
    assert.equal(parseSpiffeId(id), first);
    assert.ok(Object.isFrozen(first), 'callers share it: nobody may change it');
    assert.equal(parseSvidSpiffeId(id), parseSvidSpiffeId(id));
    assert.ok(Object.isFrozen(parseSvidSpiffeId(id)));
    for (let i = 0; i < 2; i++)
      assert.throws(() => parseSpiffeId('spiffe://cluster.local/ns/Shop/sa/cart'), SpiffeIdError);
  });

  it('enforces the 2048-byte and 255-byte trust domain limits', () => {
    assert.throws(
      () => parseSpiffeUri(`spiffe://td/${'a'.repeat(2040)}`),
      /is 2052 bytes long, the limit is 2048/,
    );
    assert.throws(
      () => parseSpiffeUri(`spiffe://${'a'.repeat(256)}/x`),
      /trust domain is 256 bytes long, the limit is 255/,
    );
    assert.equal(parseSpiffeUri(`spiffe://${'a'.repeat(255)}/x`).trustDomain.length, 255);
  });
});

describe('parseSpiffeUri (any path)', () => {
  it('accepts other SPIFFE paths and trust domain IDs', () => {
    assert.deepEqual(parseSpiffeUri('spiffe://example.org/workload/Web_1.v2'), {
      uri: 'spiffe://example.org/workload/Web_1.v2',
      trustDomain: 'example.org',
      path: '/workload/Web_1.v2',
    });
    assert.deepEqual(parseSpiffeUri('spiffe://example.org'), {
      uri: 'spiffe://example.org',
      trustDomain: 'example.org',
      path: '',
    });
  });

  it('requires a path for a certificate identity', () => {
    assert.throws(
      () => parseSvidSpiffeId('spiffe://example.org'),
      /needs a path after the trust domain/,
    );
    assert.equal(parseSvidSpiffeId('spiffe://example.org/x').path, '/x');
  });
});

describe('formatSpiffeId', () => {
  it('round-trips with parseSpiffeId', () => {
    const id = {
      trustDomain: 'cluster.local',
      namespace: 'istio-system',
      serviceAccount: 'ztunnel',
    };
    assert.equal(formatSpiffeId(id), 'spiffe://cluster.local/ns/istio-system/sa/ztunnel');
    assert.deepEqual(parseSpiffeId(formatSpiffeId(id)), id);
  });

  it('rejects invalid parts with the part named', () => {
    assert.throws(
      () => formatSpiffeId({ trustDomain: 'a/b', namespace: 'x', serviceAccount: 'y' }),
      /trust domain "a\/b" contains "\/"/,
    );
    assert.throws(
      () => formatSpiffeId({ trustDomain: 'td', namespace: 'x_y', serviceAccount: 'y' }),
      /namespace "x_y"/,
    );
    assert.throws(
      () => formatSpiffeId({ trustDomain: 'td', namespace: 'x', serviceAccount: '' }),
      /service account "" must not be empty/,
    );
  });
});

describe('parseTrustDomain', () => {
  it('accepts valid names and explains invalid ones', () => {
    assert.equal(parseTrustDomain('cluster.local'), 'cluster.local');
    assert.throws(
      () => parseTrustDomain('Cluster.local'),
      /invalid trust domain "Cluster.local": trust domain "Cluster.local" must be lowercase/,
    );
    assert.throws(() => parseTrustDomain(''), /trust domain is missing/);
  });
});
