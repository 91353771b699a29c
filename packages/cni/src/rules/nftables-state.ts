// Comparing a wanted `nft -f` script with `nft list ruleset` output (pure). Re-applying an nft script
// is one atomic transaction, so only drift detection needs the current state: which of our tables
// exist and how many rules each of their chains holds.

/** "table" -> "chain" -> rule count, for inet tables. */
export type NftCounts = Map<string, Map<string, number>>;

/** Rule counts per chain from the `add table/chain/rule inet ...` lines of an nft script. */
export function nftScriptCounts(script: string): NftCounts {
  const counts: NftCounts = new Map();
  for (const line of script.split('\n')) {
    const m = /^add (table|chain|rule) inet (\S+)(?: (\S+))?/.exec(line.trim());
    if (!m) continue;
    const table = counts.get(m[2]!) ?? new Map<string, number>();
    counts.set(m[2]!, table);
    if (m[1] === 'chain') table.set(m[3]!, table.get(m[3]!) ?? 0);
    if (m[1] === 'rule') table.set(m[3]!, (table.get(m[3]!) ?? 0) + 1);
  }
  return counts;
}

/** Rule counts per chain of the inet tables in `nft list ruleset` (or `nft list table`) output. */
export function nftListCounts(listing: string): NftCounts {
  const counts: NftCounts = new Map();
  let table: Map<string, number> | undefined;
  let chain: string | undefined;
  for (const raw of listing.split('\n')) {
    const line = raw.trim();
    let m;
    if ((m = /^table (\S+) (\S+) \{$/.exec(line))) {
      table = m[1] === 'inet' ? new Map() : undefined;
      if (table) counts.set(m[2]!, table);
      chain = undefined;
    } else if ((m = /^chain (\S+) \{$/.exec(line))) {
      chain = m[1]!;
      table?.set(chain, 0);
    } else if (line === '}') {
      if (chain) chain = undefined;
      else table = undefined;
    } else if (table && chain && line !== '' && !line.startsWith('type ')) {
      table.set(chain, (table.get(chain) ?? 0) + 1);
    }
  }
  return counts;
}

/** What differs between the wanted script and the listing; [] when in place. */
export function nftDrift(script: string, listing: string, ours: readonly string[]): string[] {
  const want = nftScriptCounts(script);
  const have = nftListCounts(listing);
  const problems: string[] = [];
  for (const [table, chains] of want) {
    const cur = have.get(table);
    if (!cur) {
      problems.push(`table inet ${table} is missing`);
      continue;
    }
    for (const [chain, n] of chains) {
      const m = cur.get(chain);
      if (m === undefined) problems.push(`inet ${table}: chain ${chain} is missing`);
      else if (m !== n) problems.push(`inet ${table}: chain ${chain} has ${m} rules, want ${n}`);
    }
  }
  for (const table of ours)
    if (!want.has(table) && have.has(table)) problems.push(`leftover table inet ${table}`);
  return problems;
}

/** `nft -f` input deleting those of `ours` that exist in the listing; '' when none do. */
export function nftRemoval(listing: string, ours: readonly string[]): string {
  const have = nftListCounts(listing);
  const lines = ours.filter((t) => have.has(t)).map((t) => `delete table inet ${t}`);
  return lines.length ? lines.join('\n') + '\n' : '';
}
