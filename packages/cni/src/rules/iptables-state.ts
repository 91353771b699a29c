// Comparing wanted rules with what `iptables-save` shows (pure): the restore input that brings a
// netns to the wanted state touching only our chains and the jumps to them (nothing when it is
// already there, so re-applying never disturbs a healthy pod), what differs (CNI CHECK, drift),
// and the input that removes our chains again.

/** table -> chain -> rule lines (`-A CHAIN ...`), in order; a declared empty chain maps to []. */
export type IptablesState = Map<string, Map<string, string[]>>;

/** Parses iptables-save / iptables-restore text. */
export function parseIptables(text: string): IptablesState {
  const state: IptablesState = new Map();
  let table: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      const name = line.slice(1).trim();
      table = state.get(name) ?? new Map();
      state.set(name, table);
      continue;
    }
    if (!table) throw new Error(`iptables text: '${line}' comes before any *table line`);
    if (line.startsWith(':')) {
      const chain = line.slice(1).split(/\s+/)[0]!;
      if (!table.has(chain)) table.set(chain, []);
      continue;
    }
    const m = /^-A\s+(\S+)\s/.exec(line);
    if (!m) continue;
    const rules = table.get(m[1]!) ?? [];
    rules.push(line);
    table.set(m[1]!, rules);
  }
  return state;
}

const jumpTo = (builtin: string, chain: string) => `-A ${builtin} -j ${chain}`;

interface WantedTable {
  name: string;
  /** Our chains and their rules. */
  chains: Map<string, string[]>;
  /** Jump lines (`-A BUILTIN -j OURS`) wanted exactly once each. */
  jumps: string[];
}

function wantedTables(wanted: string, ours: readonly string[]): WantedTable[] {
  return [...parseIptables(wanted)].map(([name, chains]) => {
    const own = new Map([...chains].filter(([c]) => ours.includes(c)));
    const jumps = [...chains]
      .filter(([c]) => !ours.includes(c))
      .flatMap(([, rules]) => rules.filter((r) => ours.some((o) => r.endsWith(` -j ${o}`))));
    return { name, chains: own, jumps };
  });
}

function count(lines: readonly string[], line: string): number {
  return lines.filter((l) => l === line).length;
}

function builtinOf(jump: string): string {
  return jump.split(/\s+/)[1]!;
}

/**
 * The `iptables-restore --noflush` input that turns `current` (iptables-save output) into
 * `wanted` for our chains `ours`; '' when nothing needs to change. Tables that hold our chains
 * but are not wanted (e.g. raw once DNS capture is off) are cleared.
 */
export function planIptablesRestore(
  wanted: string,
  current: string,
  ours: readonly string[],
): string {
  const now = parseIptables(current);
  const out: string[] = [];
  const wantedNames = new Set<string>();
  for (const t of wantedTables(wanted, ours)) {
    wantedNames.add(t.name);
    const cur = now.get(t.name) ?? new Map<string, string[]>();
    const lines: string[] = [];
    for (const [chain, rules] of t.chains) {
      const have = cur.get(chain);
      if (have && have.length === rules.length && have.every((r, i) => r === rules[i])) continue;
      lines.push(`:${chain} - [0:0]`, ...rules);
    }
    for (const jump of t.jumps) {
      const n = count(cur.get(builtinOf(jump)) ?? [], jump);
      if (n === 0) lines.push(jump);
      for (let i = 1; i < n; i++) lines.push(jump.replace(/^-A/, '-D'));
    }
    // Declarations first: a jump may only name a chain that exists.
    lines.sort((a, b) => Number(!a.startsWith(':')) - Number(!b.startsWith(':')));
    if (lines.length) out.push(`*${t.name}`, ...lines, 'COMMIT');
  }
  for (const [name, chains] of now) {
    if (wantedNames.has(name)) continue;
    const removal = removalLines(chains, ours);
    if (removal.length) out.push(`*${name}`, ...removal, 'COMMIT');
  }
  return out.length ? out.join('\n') + '\n' : '';
}

function removalLines(chains: Map<string, string[]>, ours: readonly string[]): string[] {
  const lines: string[] = [];
  for (const [chain, rules] of chains) {
    if (ours.includes(chain)) continue;
    for (const r of rules)
      if (ours.some((o) => r === jumpTo(chain, o))) lines.push(r.replace(/^-A/, '-D'));
  }
  for (const chain of ours) if (chains.has(chain)) lines.push(`-F ${chain}`);
  for (const chain of ours) if (chains.has(chain)) lines.push(`-X ${chain}`);
  return lines;
}

/** The restore input removing our chains and every jump to them; '' when none exist. */
export function planIptablesRemoval(current: string, ours: readonly string[]): string {
  const out: string[] = [];
  for (const [name, chains] of parseIptables(current)) {
    const lines = removalLines(chains, ours);
    if (lines.length) out.push(`*${name}`, ...lines, 'COMMIT');
  }
  return out.length ? out.join('\n') + '\n' : '';
}

/** What differs between `wanted` and `current`, one sentence each; [] when the rules are in place. */
export function iptablesDrift(wanted: string, current: string, ours: readonly string[]): string[] {
  const now = parseIptables(current);
  const problems: string[] = [];
  const wantedNames = new Set<string>();
  for (const t of wantedTables(wanted, ours)) {
    wantedNames.add(t.name);
    const cur = now.get(t.name);
    for (const [chain, rules] of t.chains) {
      const have = cur?.get(chain);
      if (!have) problems.push(`${t.name}: chain ${chain} is missing`);
      else {
        const missing = rules.filter((r) => !have.includes(r));
        const extra = have.filter((r) => !rules.includes(r));
        for (const r of missing) problems.push(`${t.name}: missing rule '${r}'`);
        for (const r of extra) problems.push(`${t.name}: unexpected rule '${r}'`);
        if (!missing.length && !extra.length && have.some((r, i) => r !== rules[i]))
          problems.push(`${t.name}: chain ${chain} has its rules out of order`);
      }
    }
    for (const jump of t.jumps) {
      const n = count(cur?.get(builtinOf(jump)) ?? [], jump);
      if (n !== 1) problems.push(`${t.name}: '${jump}' appears ${n} times, want once`);
    }
  }
  for (const [name, chains] of now)
    if (!wantedNames.has(name))
      for (const chain of ours)
        if (chains.has(chain)) problems.push(`${name}: leftover chain ${chain}`);
  return problems;
}
