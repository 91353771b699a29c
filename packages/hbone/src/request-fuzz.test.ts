// Property tests (fast-check, fixed seed, bounded runs) of what an HBONE server reads from a
// client: the CONNECT `:authority`, the `forwarded` header, and whole requests with random
// methods, authorities and headers sent over a real mTLS HTTP/2 session. Bad input gets a 400 with
// a bounded reason, nothing throws, the session stays usable, and no stream is left open.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { describe, it } from 'node:test';
import { canonicalIp } from '@trellis/core';
import { eventually } from '@trellis/core/test-support';
import fc from 'fast-check';
import { formatAuthority, parseAuthority } from './authority.pure.js';
import { parseForwardedFor } from './forwarded.pure.js';
import { dialTcp } from './server-stream.js';
import { makePki, spiffe, startApp, startServer } from './test-support/hbone-endpoints.js';

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const authorityLike = fc.oneof(
  fc.string(),
  fc.string({ minLength: 1000, maxLength: 3000 }),
  fc.tuple(ipv4, fc.integer({ min: -5, max: 70000 })).map(([ip, p]) => `${ip}:${p}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: -5, max: 70000 })).map(([ip, p]) => `[${ip}]:${p}`),
  fc.tuple(fc.ipV6(), fc.nat(65535)).map(([ip, p]) => `${ip}:${p}`),
  fc.stringMatching(/^\[?[0-9a-fA-F:.%]{0,40}\]?:?[0-9+-]{0,7}$/),
);

describe('HBONE request parsing, property-tested', () => {
  it(':authority is parsed into a canonical ip:port or refused with a bounded reason', () => {
    fc.assert(
      fc.property(authorityLike, (text) => {
        const r = parseAuthority(text);
        if (!r.ok) {
          assert.ok(r.reason.length < 400, r.reason.slice(0, 500));
          return;
        }
        const { address, port, family } = r.value;
        assert.equal(canonicalIp(address), address);
        assert.ok(Number.isInteger(port) && port >= 1 && port <= 65535);
        assert.equal(family, address.includes(':') ? 6 : 4);
        assert.deepEqual(parseAuthority(formatAuthority(r.value)), r);
      }),
      { seed: 3, numRuns: 1000 },
    );
  });

  it('forwarded: an address is canonical, anything else is no address; never a throw', () => {
    const header = fc.oneof(
      fc.string(),
      authorityLike.map((a) => `for="${a}"`),
      fc.tuple(fc.string(), authorityLike).map(([x, a]) => `${x};for=${a}, for=1.2.3.4`),
    );
    fc.assert(
      fc.property(header, (text) => {
        const r = parseForwardedFor(text);
        if (r) assert.equal(canonicalIp(r.address), r.address);
      }),
      { seed: 3, numRuns: 1000 },
    );
  });

  it('random requests over a real session: 400 for bad ones, the session lives, no stream is left', async (t) => {
    const pki = await makePki();
    const app = await startApp(t, (s) => s.end());
    // Only the test's app is ever dialled: any other target (random addresses included) is a 503.
    const hbone = await startServer(t, pki, spiffe('server'), {
      dial: (target) =>
        target.address === '127.0.0.1' && target.port === app.port
          ? dialTcp(target)
          : Promise.reject(new Error('tests dial only their own app')),
    });
    const client = await pki.workload(spiffe('client'));
    const session = http2.connect(`https://127.0.0.1:${hbone.port}`, {
      key: client.key,
      cert: [client.certChain].flat().join(''),
      ca: pki.root.cert,
      checkServerIdentity: () => undefined,
    });
    t.after(() => session.destroy());
    session.on('error', () => undefined);
    const valid = `127.0.0.1:${app.port}`;
    const request = fc.record({
      method: fc.oneof(
        fc.constantFrom('CONNECT', 'GET', 'POST'),
        fc.stringMatching(/^[A-Z]{1,12}$/),
      ),
      authority: fc.oneof(
        fc.constant(valid),
        authorityLike.filter((a) => /^[\x21-\x7e]+$/.test(a)),
      ),
      headers: fc.dictionary(
        fc.constantFrom('forwarded', 'traceparent', 'baggage', 'x-other'),
        fc.string({ maxLength: 200 }).filter((v) => /^[\x20-\x7e]*$/.test(v)),
      ),
    });
    // The status, or 'reset' when HTTP/2 itself refused the request (nghttp2 checks the
    // characters of pseudo-headers and answers RST_STREAM PROTOCOL_ERROR).
    const ask = (headers: http2.OutgoingHttpHeaders) =>
      new Promise<number | 'reset'>((resolve) => {
        const stream = session.request(headers, { endStream: false });
        stream.on('response', (h) => {
          resolve(Number(h[':status']));
          stream.close();
        });
        stream.on('error', () => undefined);
        stream.on('close', () => {
          if (stream.rstCode === http2.constants.NGHTTP2_PROTOCOL_ERROR) resolve('reset');
        });
        stream.resume();
      });
    let tunnels = 0;
    await fc.assert(
      fc.asyncProperty(request, async ({ method, authority, headers }) => {
        const isConnect = method === 'CONNECT';
        const status = await ask({
          ':method': method,
          ':authority': authority,
          ...(isConnect ? {} : { ':path': '/', ':scheme': 'https' }),
          ...headers,
        });
        const good = isConnect && parseAuthority(authority).ok;
        if (!good)
          assert.ok(status === 400 || status === 'reset', `${method} ${authority}: ${status}`);
        else assert.ok(status === 200 || status === 503, `${method} ${authority}: ${status}`);
        if (status === 200) tunnels++;
      }),
      { seed: 3, numRuns: 150 },
    );
    // Still usable, and every stream ended on the server.
    assert.equal(await ask({ ':method': 'CONNECT', ':authority': valid }), 200);
    tunnels++;
    assert.equal(hbone.server.connections, 1);
    await eventually(
      'every tunnel that opened to be reported closed',
      () => hbone.closed.length === tunnels,
      { timeoutMs: 5000, detail: () => `${hbone.closed.length} of ${tunnels} reported` },
    );
  });
});
