import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatForwardedFor, parseForwardedFor } from './forwarded.pure.js';

describe('forwarded header', () => {
  it('formats for="ip:port", bracketing IPv6', () => {
    assert.equal(formatForwardedFor({ address: '10.0.0.1', port: 43210 }), 'for="10.0.0.1:43210"');
    assert.equal(formatForwardedFor({ address: 'fd00::1', port: 43210 }), 'for="[fd00::1]:43210"');
  });

  it('reads the first for= back, with or without port and quotes', () => {
    assert.deepEqual(parseForwardedFor('for="10.0.0.1:43210"'), {
      address: '10.0.0.1',
      port: 43210,
    });
    assert.deepEqual(parseForwardedFor('proto=https;For="[fd00::1]:80", for=10.9.9.9'), {
      address: 'fd00::1',
      port: 80,
    });
    assert.deepEqual(parseForwardedFor('for=192.0.2.60;proto=http'), { address: '192.0.2.60' });
    assert.deepEqual(parseForwardedFor('for="[2001:db8::17]"'), { address: '2001:db8::17' });
  });

  it('gives undefined when there is no IP to read', () => {
    assert.equal(parseForwardedFor('for=unknown'), undefined);
    assert.equal(parseForwardedFor('for="_hidden"'), undefined);
    assert.equal(parseForwardedFor('proto=http'), undefined);
    assert.equal(parseForwardedFor(''), undefined);
  });
});
