// Local addresses of a network namespace from its /proc/<pid>/net files (pure).

/** IPv4 addresses marked "/32 host LOCAL" in /proc/<pid>/net/fib_trie. */
export function fibTrieLocalAddresses(text: string): string[] {
  const out = new Set<string>();
  let last: string | undefined;
  for (const line of text.split('\n')) {
    const leaf = /\|--\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leaf) {
      last = leaf[1];
      continue;
    }
    if (last && /\/32 host LOCAL/.test(line)) out.add(last);
  }
  return [...out];
}

/** IPv6 addresses in /proc/<pid>/net/if_inet6 (32 hex digits per line), in canonical short form. */
export function ifInet6Addresses(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const hex = line.trim().split(/\s+/)[0];
    if (!hex || !/^[0-9a-f]{32}$/i.test(hex)) continue;
    const groups = hex.match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16));
    out.push(compressIpv6(groups));
  }
  return out;
}

function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}
