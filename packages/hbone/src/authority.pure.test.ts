import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAuthority, parseAuthority } from './authority.pure.js';

describe('parseAuthority', () => {
  it('accepts IPv4 ip:port and bracketed IPv6, canonicalising the address', () => {
    assert.deepEqual(parseAuthority('10.0.0.5:8080'), {
      ok: true,
      value: { address: '10.0.0.5', port: 8080, family: 4 },
    });
    assert.deepEqual(parseAuthority('[FD00:0:0::5]:443'), {
      ok: true,
      value: { address: 'fd00::5', port: 443, family: 6 },
    });
    assert.deepEqual(parseAuthority('[::ffff:10.0.0.1]:80'), {
      ok: true,
      value: { address: '10.0.0.1', port: 80, family: 4 },
    });
  });

  it('rejects anything else, saying why', () => {
    const reason = (s: string) => {
      const r = parseAuthority(s);
      assert.equal(r.ok, false, s);
      return r.ok ? '' : r.reason;
    };
    assert.match(reason('example.com:80'), /"example.com" is not an IP address/);
    assert.match(reason('10.0.0.5'), /missing ":port"/);
    assert.match(reason('fd00::5:80'), /must be in brackets/);
    assert.match(reason('[fd00::5]'), /missing ":port"/);
    assert.match(reason('[fd00::5:80'), /missing "\]"/);
    assert.match(reason('[10.0.0.5]:80'), /is not an IP address/);
    assert.match(reason('256.0.0.1:80'), /is not an IP address/);
    assert.match(reason('010.0.0.1:80'), /is not an IP address/);
    assert.match(reason('[fe80::1%eth0]:80'), /is not an IP address/);
    assert.match(reason('10.0.0.5:0'), /port 0 is outside 1..65535/);
    assert.match(reason('10.0.0.5:65536'), /port 65536 is outside/);
    assert.match(reason('10.0.0.5:+80'), /port "\+80" is not a number/);
    assert.match(reason(''), /missing ":port"/);
  });
});

describe('formatAuthority', () => {
  it('brackets IPv6 only', () => {
    assert.equal(formatAuthority({ address: '10.0.0.1', port: 80 }), '10.0.0.1:80');
    assert.equal(formatAuthority({ address: 'fd00::1', port: 80 }), '[fd00::1]:80');
  });
});
