// Small decisions of the proxy: path normalisation (what policy sees), retry conditions and
// back-off, the request as sent upstream (hop-by-hop headers, x-forwarded-proto, request id),
// gRPC local replies, grpc-timeout, filter chain selection, peer labels from baggage.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizePath } from './normalize-path.js';
import {
  backoffMs,
  retriableFailure,
  retriableResponse,
  staleConnection,
} from './retry-decision.js';
import { grpcTimeoutMs } from './request-prep.js';
import { encodeGrpcMessage, grpcStatusFor, localResponse } from './local-reply.js';
import { stripHopByHop } from '../http/headers.pure.js';
import { selectChain } from '../listener-select.js';
import { cidrPredicate } from '../net/cidr.pure.js';
import type { ChainMatch } from '../model/listener.js';
import type { RetryPolicy } from '../model/route.js';
import { peerLabels } from '../telemetry/peer.js';

test('path normalisation: dot segments, unreserved escapes, merged slashes; escapes that could hide a path are refused', () => {
  assert.equal(normalizePath('/a/./b/../c?x=/../y', true, false), '/a/c?x=/../y');
  assert.equal(normalizePath('/%61dmin/x', true, false), '/admin/x');
  assert.equal(normalizePath('/a%20b', true, false), '/a%20b');
  assert.equal(normalizePath('/a//b', false, true), '/a/b');
  assert.equal(normalizePath('/a/b/..', true, false), '/a/');
  assert.equal(normalizePath('/../etc', true, false), undefined);
  assert.equal(normalizePath('/a%2fb', true, false), undefined);
  assert.equal(normalizePath('/a\\b', true, false), undefined);
});

const policy = (on: string[], codes: number[] = []): RetryPolicy => ({
  on: new Set(on),
  numRetries: 2,
  perTryTimeoutMs: 0,
  retriableStatusCodes: new Set(codes),
  baseIntervalMs: 25,
  maxIntervalMs: 250,
  otherHosts: false,
  hostSelectionAttempts: 1,
});

test('retry conditions: 5xx, gateway-error, retriable codes, gRPC statuses, connect failures and resets', () => {
  assert.equal(retriableResponse(policy(['5xx']), 500, undefined), true);
  assert.equal(retriableResponse(policy(['gateway-error']), 500, undefined), false);
  assert.equal(retriableResponse(policy(['gateway-error']), 503, undefined), true);
  assert.equal(retriableResponse(policy(['retriable-status-codes'], [409]), 409, undefined), true);
  assert.equal(retriableResponse(policy(['retriable-status-codes'], [409]), 503, undefined), false);
  assert.equal(retriableResponse(policy(['unavailable']), 200, 14), true);
  assert.equal(retriableResponse(policy(['unavailable']), 200, 13), false);
  assert.equal(retriableFailure(policy(['connect-failure']), 'connect-failure'), true);
  assert.equal(retriableFailure(policy(['connect-failure']), 'reset-before-response'), false);
  assert.equal(retriableFailure(policy(['reset']), 'reset-before-response'), true);
  assert.equal(retriableFailure(policy(['5xx']), 'timeout'), true);
  assert.equal(
    retriableFailure(policy(['retriable-status-codes'], [503]), 'connect-failure'),
    false,
  );
  // a pooled connection the upstream had closed: one more try, whatever the policy says
  assert.equal(staleConnection('reset-before-response', true), true);
  assert.equal(staleConnection('reset-before-response', false), false, 'a fresh connection');
  assert.equal(staleConnection('timeout', true), false);
  assert.equal(staleConnection('connect-failure', true), false);
  for (let n = 1; n <= 6; n++) {
    const b = backoffMs(policy([]), n, () => 0.999);
    assert.ok(b <= Math.min(250, (2 ** n - 1) * 25) && b >= 0, `${n}: ${b}`);
  }
});

test('hop-by-hop headers never travel; te: trailers does; grpc-timeout parses', () => {
  assert.deepEqual(
    stripHopByHop([
      'connection',
      'close, x-secret',
      'x-secret',
      '1',
      'keep-alive',
      'timeout=5',
      'te',
      'trailers',
      'upgrade',
      'h2c',
      'x-ok',
      '1',
    ]),
    ['te', 'trailers', 'x-ok', '1'],
  );
  assert.deepEqual(stripHopByHop(['te', 'gzip']), []);
  assert.equal(grpcTimeoutMs('10S'), 10_000);
  assert.equal(grpcTimeoutMs('250m'), 250);
  assert.equal(grpcTimeoutMs('1H'), 3_600_000);
  assert.equal(grpcTimeoutMs('ten'), undefined);
});

test('local replies to gRPC requests are trailers-only with the mapped status and an encoded message', () => {
  assert.equal(grpcStatusFor(403), 7);
  assert.equal(grpcStatusFor(503), 14);
  assert.equal(grpcStatusFor(401), 16);
  const r = localResponse(403, 'RBAC: access denied', undefined, true);
  assert.equal(r.status, 200);
  assert.deepEqual(r.headers.slice(0, 6), [
    'content-type',
    'application/grpc',
    'grpc-status',
    '7',
    'grpc-message',
    'RBAC: access denied',
  ]);
  assert.equal(encodeGrpcMessage('50% é'), '50%25 %C3%A9');
  const h = localResponse(503, 'no healthy upstream', undefined, false);
  assert.deepEqual([h.status, h.body.toString()], [503, 'no healthy upstream']);
});

test('filter chain selection: destination port, then the longest destination prefix, then the default', () => {
  const m = (o: Partial<ChainMatch>): ChainMatch => ({
    prefixRanges: [],
    sourcePrefixRanges: [],
    sourcePorts: [],
    serverNames: [],
    transportProtocol: '',
    applicationProtocols: [],
    ...o,
  });
  const r = (a: string, len: number) => ({ test: cidrPredicate(a, len), len });
  const chains = [
    { item: 'vip-80', match: m({ destinationPort: 80, prefixRanges: [r('10.96.0.1', 32)] }) },
    { item: 'net-80', match: m({ destinationPort: 80, prefixRanges: [r('10.96.0.0', 16)] }) },
    { item: 'any-443', match: m({ destinationPort: 443 }) },
    { item: 'sni', match: m({ serverNames: ['*.example.com'] }) },
  ];
  const f = (addr: string, port: number, sni?: string) =>
    selectChain(chains, {
      destinationAddress: addr,
      destinationPort: port,
      sourceAddress: '10.0.0.1',
      sourcePort: 1234,
      transportProtocol: 'raw_buffer',
      applicationProtocols: [],
      ...(sni ? { sni } : {}),
    });
  assert.equal(f('10.96.0.1', 80), 'vip-80');
  assert.equal(f('10.96.3.3', 80), 'net-80');
  assert.equal(f('10.97.0.1', 80), undefined, 'port 80 chains exist but none matches the address');
  assert.equal(f('1.2.3.4', 443), 'any-443');
  assert.equal(f('1.2.3.4', 8443, 'a.example.com'), 'sni');
});

test('peer labels from the verified identity and W3C baggage', () => {
  const p = peerLabels(
    'spiffe://cluster.local/ns/shop/sa/web',
    'k8s.cluster.name=Kubernetes,k8s.namespace.name=spoofed,k8s.deployment.name=web-v2,service.name=web,service.version=v2',
  );
  assert.deepEqual(p, {
    principal: 'spiffe://cluster.local/ns/shop/sa/web',
    workload: 'web-v2',
    namespace: 'shop',
    canonicalService: 'web',
    canonicalRevision: 'v2',
    cluster: 'Kubernetes',
  });
});
