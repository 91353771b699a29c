// Envoy's filter chain selection: of the chains whose criteria all hold, the most specific wins,
// criterion by criterion in Envoy's order (destination port, destination IP by longest prefix,
// server name, transport protocol, application protocols, source IP by longest prefix, source
// port); the default chain when none matches. Pure.
import type { ChainMatch } from './model/listener.js';

export interface ChainFacts {
  readonly destinationAddress: string;
  readonly destinationPort: number;
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly sni?: string;
  /** "raw_buffer" or "tls". */
  readonly transportProtocol: string;
  readonly applicationProtocols: readonly string[];
}

type Ranked<T> = { readonly item: T; readonly match: ChainMatch };

function narrow<T>(cands: Ranked<T>[], score: (m: ChainMatch) => number): Ranked<T>[] {
  let best = -Infinity;
  const scored = cands.map((c) => {
    const s = score(c.match);
    if (s > best) best = s;
    return [c, s] as const;
  });
  if (best === -Infinity) return [];
  return scored.filter(([, s]) => s === best).map(([c]) => c);
}

/** Longest matching prefix length; -1 when the chain lists none (matches any), -Inf when none matches. */
function prefixScore(ranges: ChainMatch['prefixRanges'], ip: string): number {
  if (ranges.length === 0) return -1;
  let best = -Infinity;
  for (const r of ranges) if (r.len > best && r.test(ip)) best = r.len;
  return best;
}

/** How well `sni` matches `names`: MAX_SAFE_INTEGER exact, the pattern's length for `*.suffix`,
 * 0 when `names` is empty (any), -Infinity when none matches or there is no SNI. */
export function serverNameScore(names: readonly string[], sni: string | undefined): number {
  if (names.length === 0) return 0;
  if (sni === undefined) return -Infinity;
  const s = sni.toLowerCase();
  let best = -Infinity;
  for (const n of names) {
    if (n === s) return Number.MAX_SAFE_INTEGER;
    if (n.startsWith('*.') && s.endsWith(n.slice(1)) && n.length > best) best = n.length;
  }
  return best;
}

export function selectChain<T>(
  chains: readonly { readonly item: T; readonly match: ChainMatch }[],
  f: ChainFacts,
): T | undefined {
  let c = [...chains];
  c = narrow(c, (m) =>
    m.destinationPort === undefined ? 0 : m.destinationPort === f.destinationPort ? 1 : -Infinity,
  );
  c = narrow(c, (m) => prefixScore(m.prefixRanges, f.destinationAddress));
  c = narrow(c, (m) => serverNameScore(m.serverNames, f.sni));
  c = narrow(c, (m) =>
    m.transportProtocol === '' ? 0 : m.transportProtocol === f.transportProtocol ? 1 : -Infinity,
  );
  c = narrow(c, (m) =>
    m.applicationProtocols.length === 0
      ? 0
      : m.applicationProtocols.some((p) => f.applicationProtocols.includes(p))
        ? 1
        : -Infinity,
  );
  c = narrow(c, (m) => prefixScore(m.sourcePrefixRanges, f.sourceAddress));
  c = narrow(c, (m) =>
    m.sourcePorts.length === 0 ? 0 : m.sourcePorts.includes(f.sourcePort) ? 1 : -Infinity,
  );
  return c[0]?.item;
}
