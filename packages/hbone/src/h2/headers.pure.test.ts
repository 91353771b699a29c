import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headersObject } from './headers.pure.js';

describe('HTTP/2 header checks', () => {
  it('collects a CONNECT request, joining repeated names into arrays', () => {
    assert.deepEqual(
      headersObject(
        [
          [':method', 'CONNECT'],
          [':authority', '10.0.0.1:80'],
          ['baggage', 'a=1'],
          ['baggage', 'b=2'],
        ],
        'request',
      ),
      {
        ok: true,
        value: { ':method': 'CONNECT', ':authority': '10.0.0.1:80', baggage: ['a=1', 'b=2'] },
      },
    );
  });

  it('calls malformed: uppercase names, pseudo-headers late, unknown or repeated, connection headers, no :method or :status', () => {
    const malformed: Array<[Parameters<typeof headersObject>[0], 'request' | 'response', RegExp]> =
      [
        [
          [
            [':method', 'CONNECT'],
            ['Forwarded', 'x'],
          ],
          'request',
          /lowercase/,
        ],
        [
          [
            ['forwarded', 'x'],
            [':method', 'CONNECT'],
          ],
          'request',
          /after a regular header/,
        ],
        [
          [
            [':method', 'CONNECT'],
            [':status', '200'],
          ],
          'request',
          /not allowed in a request/,
        ],
        [
          [
            [':method', 'CONNECT'],
            [':method', 'GET'],
          ],
          'request',
          /repeated/,
        ],
        [
          [
            [':method', 'CONNECT'],
            ['connection', 'close'],
          ],
          'request',
          /connection-specific/,
        ],
        [[[':authority', 'a:1']], 'request', /no :method/],
        [[['server', 'x']], 'response', /no valid :status/],
      ];
    for (const [fields, kind, reason] of malformed) {
      const result = headersObject(fields, kind);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.reason, reason);
    }
  });
});
