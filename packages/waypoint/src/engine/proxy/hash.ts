// The hash a request contributes to ring-hash / Maglev balancing, from the route's hash policies
// (header, cookie, source IP, query parameter), Envoy style: policies are combined in order, a
// terminal policy that produced a value stops the rest; no value at all means "pick at random".
import { getHeaderJoined } from '../http/headers.pure.js';
import { queryParams } from '../convert/matchers.js';
import type { HashPolicy } from '../model/route.js';
import { hash32 } from '../upstream/balancer.js';
import type { Exchange } from './exchange.js';

export function hashFor(policies: readonly HashPolicy[], ex: Exchange): number | undefined {
  let h: number | undefined;
  for (const p of policies) {
    let v: string | undefined;
    switch (p.kind) {
      case 'header':
        v =
          p.name === ':authority' || p.name === 'host'
            ? ex.request.authority
            : getHeaderJoined(ex.request.headers, p.name);
        break;
      case 'cookie':
        v = cookie(getHeaderJoined(ex.request.headers, 'cookie'), p.name);
        break;
      case 'source-ip':
        v = ex.conn.remoteAddress;
        break;
      case 'query':
        v = queryParams(ex.request.path).get(p.name);
        break;
    }
    if (v === undefined) continue;
    const x = hash32(v);
    h = h === undefined ? x : (((h << 1) | (h >>> 31)) ^ x) >>> 0;
    if (p.terminal) break;
  }
  return h;
}

function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/;\s*/)) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq) === name) return part.slice(eq + 1);
  }
  return undefined;
}
